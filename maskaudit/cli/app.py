"""The typer application; subcommands register themselves on it from their own modules."""

import typer

app = typer.Typer(
    name="maskaudit",
    help="Audit segmentation training data before a training run.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def split_list(text: str | None) -> list[str]:
    return [item.strip() for item in (text or "").split(",") if item.strip()]
