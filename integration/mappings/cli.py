"""`escalator mappings …` (placeholder until the loader lands)."""
import click


@click.group()
def mappings() -> None:
    """Check the admin-edited mapping files."""
