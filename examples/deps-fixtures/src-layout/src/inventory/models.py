import attrs


@attrs.define
class Item:
    sku: str
    count: int = 0
