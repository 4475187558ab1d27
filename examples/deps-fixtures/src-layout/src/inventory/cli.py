import click

from inventory import Item
from inventory.models import Item as _Same  # absolute first-party import


@click.command()
@click.argument("sku")
def main(sku: str) -> None:
    assert Item is _Same
    click.echo(Item(sku))
