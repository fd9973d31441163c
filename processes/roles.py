"""Roles of chapter 12 case handling, and how diagram lanes map to them.

A lane in a diagram names who does the tasks in it. kap12 resolves a lane's name to one or more
roles here; a lane whose name is not in LANE_ROLES is refused at deploy, so a typo in a diagram
can never leave a task that nobody sees.
"""

# Role codes (identifiers) with their Norwegian labels.
ROLES: dict[str, str] = {
    "ansatt": "Ansatt",
    "avdelingsleder": "Avdelingsleder",
    "rektor": "Rektor / ass. rektor",
    "skoleeier": "Skoleeier (sentral skoleledelse i fylket)",
    "prosesseier": "Prosesseier",
    "revisor": "Revisor / internkontroll",
    "administrator": "Administrator",
}

# Roles granted for a school (a grant names the school) versus for the whole county.
SCHOOL_ROLES = frozenset({"ansatt", "avdelingsleder", "rektor"})
COUNTY_ROLES = frozenset({"skoleeier", "prosesseier", "revisor", "administrator"})

# The school's leadership: who receives reports in procedure A and who is bypassed in C.
LEADERSHIP_ROLES = frozenset({"avdelingsleder", "rektor"})

# The lane that the shared follow-up (investigate, plan, evaluate) uses: its tasks go to the
# role that is responsible for the case in the procedure that called it. The calling procedure
# sets the workflow variable named here before the call activity.
RESPONSIBLE_LANE = "Saksansvarlig"
RESPONSIBLE_ROLE_VARIABLE = "saksansvarlig_rolle"

# Who is alerted when a deadline in the shared follow-up is missed also depends on the
# procedure (in C the school's leadership is bypassed, so it must not be rektor). A timer's
# ``kap12.mottaker`` is either a role code or the name of this variable.
ESCALATION_ROLE_VARIABLE = "eskaleringsrolle"

LANE_ROLES: dict[str, tuple[str, ...]] = {
    "Ansatt": ("ansatt",),
    "Skoleledelse": ("avdelingsleder", "rektor"),
    "Avdelingsleder": ("avdelingsleder",),
    "Rektor": ("rektor",),
    "Skoleeier": ("skoleeier",),
    RESPONSIBLE_LANE: (),  # resolved per case from RESPONSIBLE_ROLE_VARIABLE
}

# The school owner, and the forms whose completion is the notice to the school owner (rektor's
# "varsle skoleeier" in B and in a serious A case). See ``engine.write.unit_of_work.owner_told``.
OWNER_ROLE = "skoleeier"
OWNER_NOTICE_FORMS = frozenset({"varsle_skoleeier"})

# Who the alleged offender is decides the procedure (DOMAIN.md: A, B, C).
OFFENDER_PROCEDURE: dict[str, str] = {"elev": "A", "ansatt": "B", "ledelse": "C"}
# The procedures of § 12-5, where an adult at the school is accused: the smallest circle, and
# "straks" for the investigation and measures too.
SHARPENED = ("B", "C")
# The diagram of each procedure (the routing diagram calls one of them per case).
PROCEDURE_PROCESSES: dict[str, str] = {"A": "prosedyre_a", "B": "prosedyre_b", "C": "prosedyre_c"}
PROCEDURE_LABELS: dict[str, str] = {
    "A": "Prosedyre A – elev krenker elev (§ 12-4)",
    "B": "Prosedyre B – ansatt krenker elev (§ 12-5)",
    "C": "Prosedyre C – noen i skolens ledelse krenker elev (§ 12-5)",
    "Å": "Årshjul – forebyggende arbeid (§ 12-3)",
}


# Rektor is responsible for every case at the school (DOMAIN.md): where a procedure makes a
# leader below rektor responsible (avdelingsleder in A), rektor may do those tasks too. Without
# it a school with no avdelingsleder, or whose avdelingsleder is away or the one accused, had an
# A case nobody could investigate: rektor was told of the missed deadline and could not act.
ALSO_RESPONSIBLE: dict[str, tuple[str, ...]] = {"avdelingsleder": ("rektor",)}


def lane_roles(lane: str | None, data: dict | None = None) -> tuple[str, ...]:
    """The roles that may do a task in ``lane``; ``data`` is the task's workflow data."""
    if lane is None:
        return ()
    if lane == RESPONSIBLE_LANE:
        role = (data or {}).get(RESPONSIBLE_ROLE_VARIABLE)
        return (role, *ALSO_RESPONSIBLE.get(role, ())) if role in ROLES else ()
    return LANE_ROLES.get(lane, ())


def recipient_role(mottaker: str | None, data: dict | None = None) -> str | None:
    """The role a reminder or escalation goes to: ``mottaker`` is a role code, or the name of
    a workflow variable holding one (see ESCALATION_ROLE_VARIABLE)."""
    if not mottaker:
        return None
    if mottaker in ROLES:
        return mottaker
    role = (data or {}).get(mottaker)
    return role if role in ROLES else None


def valid_recipient(mottaker: str) -> bool:
    return mottaker in ROLES or mottaker in (ESCALATION_ROLE_VARIABLE, RESPONSIBLE_ROLE_VARIABLE)
