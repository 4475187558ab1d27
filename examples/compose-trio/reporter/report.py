"""One-shot reporter: prints a summary of the jobs and exits 0."""

import argparse

import yaml
from pydantic import BaseModel


class Summary(BaseModel):
    jobs: int
    total_size: int


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--format", choices=["yaml", "json"], default="yaml")
    args = parser.parse_args()
    summary = Summary(jobs=3, total_size=60)
    if args.format == "yaml":
        print(yaml.safe_dump(summary.model_dump()), end="")
    else:
        print(summary.model_dump_json())


if __name__ == "__main__":
    main()
