"""dbt's `exceptions` Jinja namespace, for sqlfluff's jinja templater only (see .sqlfluff)."""


def raise_compiler_error(message: str) -> str:
    return ""


def warn(message: str) -> str:
    return ""
