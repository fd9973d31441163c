"""The names the action-plan forms use for measures, named once: the plan's rows (what, when,
who is responsible: a colleague picked from the staff or a name written freely) and the rows of
"Gjennomføre tiltak" (each measure, whether it was carried out, a note)."""
from __future__ import annotations

PLAN_FORM = "tiltaksplan"
PLAN_ROWS = "tiltak"
WHAT = "hva"
WHEN = "nar"
OWNER = "ansvarlig_bruker"  # a user name, picked from the school's staff
OWNER_TEXT = "ansvarlig"  # anyone else, written freely (the owner's name when one is picked)

CARRY_OUT_FORM = "gjennomforing"
CARRIED_ROWS = "tiltak_status"
CARRIED_WHAT = "tiltak"
STATUS = "status"
NOTE = "merknad"
NOT_RECORDED = "Ikke registrert"
