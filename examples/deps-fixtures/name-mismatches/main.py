"""Every import name differs from its distribution's name."""

import attr
import jwt
import yaml
from bs4 import BeautifulSoup
from dateutil import parser
from dotenv import load_dotenv


@attr.s(auto_attribs=True)
class Page:
    html: str

    def title(self) -> str:
        return BeautifulSoup(self.html, "html.parser").title.string


def settings(path: str) -> dict[str, object]:
    load_dotenv()
    with open(path) as f:
        data = yaml.safe_load(f)
    data["since"] = parser.isoparse(data["since"])
    data["token"] = jwt.encode({"sub": "x"}, "secret", algorithm="HS256")
    return data
