"""Workflow variables kap12 itself puts into a process when it starts one, with an example
value each: diagrams may read them (``dato_kl(f"{skolear}-08-31")``), and deploy evaluates
timer expressions with these examples in scope."""

START_VARIABLES: dict[str, object] = {
    "skole": "Nordli videregående skole",  # the school's name (the yearly prevention cycle)
    "skolear": 2026,  # the calendar year the school year starts in (August)
}
