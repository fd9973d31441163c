"""Every kind of history event, named once.

The history stores a kind as plain text (``HistoryEvent.kind``); code names it through these
constants, never as a bare string, so that a kind is spelled in one place and a search for it
finds every writer and reader. Plain ``str`` constants, not an ``Enum``: they are bound in
SQL and written to JSON as they are, on SQLite and PostgreSQL alike.
"""
from __future__ import annotations

from typing import Final

# -- inputs: each starts a step of the write path (and is replayed by re-execution) ----------
REPORTED: Final = "reported"
CYCLE_STARTED: Final = "cycle_started"
TASK_COMPLETED: Final = "task_completed"
TASK_CLAIMED: Final = "task_claimed"
TASK_RELEASED: Final = "task_released"
RECLASSIFIED: Final = "reclassified"
MIGRATED: Final = "migrated"
REVIEWED: Final = "reviewed"
ACCESS_GRANTED: Final = "access_granted"
ACCESS_WITHDRAWN: Final = "access_withdrawn"
ACCUSED_IDENTIFIED: Final = "accused_identified"
# The case ended otherwise than "the pupil is safe": the pupil left, it was joined with another
# case, or the report concerned something outside chapter 12 (``write/endings.py``).
CASE_ENDED: Final = "case_ended"
MEASURE_RECORDED: Final = "measure_recorded"  # whether one measure of the plan was carried out
EVALUATION_NOW: Final = "evaluation_now"  # the evaluation opened before the plan's date, with why
MEASURES_ASSIGNED: Final = "measures_assigned"  # a plan made a colleague responsible for measures
# A note in the case between its steps (a conversation, a new fact), or a correction of an earlier
# step: nothing recorded is changed or deleted, the correction is a new record (write/notes.py).
CASE_NOTE: Final = "case_note"
# The one who leads an A case asked for the school owner to be told, later than at the receipt.
OWNER_NOTICE_ASKED: Final = "owner_notice_asked"

# -- derived: what the write path records from the workflow in a step -------------------------
TIMER_FIRED: Final = "timer_fired"
DEADLINE_MISSED: Final = "deadline_missed"
REMINDER: Final = "reminder"
ESCALATED: Final = "escalated"
TASK_OPENED: Final = "task_opened"
TASK_CANCELLED: Final = "task_cancelled"
CASE_CLOSED: Final = "case_closed"

# -- passive: recorded on a case's chain beside the write path; they do not touch the workflow
CASE_READ: Final = "case_read"
INCIDENT: Final = "incident"
INCIDENT_RESOLVED: Final = "incident_resolved"

# -- the system chain: definitions and forms ---------------------------------------------------
DEPLOYED: Final = "deployed"
FORM_PUBLISHED: Final = "form_published"
CHECKPOINT: Final = "checkpoint"  # the heads of every chain, folded (write/checkpoints.py)
VERSION_WITHDRAWN: Final = "version_withdrawn"  # an administrator removed an unused version
# People added, given or deprived of roles, deactivated (write/staff_directory.py): who could
# read which cases when.
DIRECTORY_CHANGED: Final = "directory_changed"

# Kinds that start a step of the write path; a step may also start with a timer that fired.
INPUTS: Final = (REPORTED, CYCLE_STARTED, TASK_COMPLETED, RECLASSIFIED, TASK_CLAIMED, TASK_RELEASED, MIGRATED,
                 REVIEWED, ACCESS_GRANTED, ACCESS_WITHDRAWN, ACCUSED_IDENTIFIED, CASE_ENDED, MEASURE_RECORDED,
                 EVALUATION_NOW, MEASURES_ASSIGNED, CASE_NOTE, OWNER_NOTICE_ASKED)
# Recorded by an act beside its input, in the same step (a reclassification ends the grants; a
# step that names the accused records it; a plan names the measures' owners): re-execution passes
# over them with their input.
ALONGSIDE: Final = (ACCESS_WITHDRAWN, ACCUSED_IDENTIFIED, MEASURES_ASSIGNED)
# What the write path derives from the workflow in a step (``unit_of_work.record_changes``).
DERIVED: Final = (TIMER_FIRED, DEADLINE_MISSED, REMINDER, ESCALATED, TASK_CANCELLED, TASK_OPENED, CASE_CLOSED)
# Recorded besides the write path; they do not touch the workflow.
PASSIVE: Final = (CASE_READ, INCIDENT, INCIDENT_RESOLVED)
SYSTEM: Final = (DEPLOYED, FORM_PUBLISHED, CHECKPOINT, VERSION_WITHDRAWN, DIRECTORY_CHANGED)
# Kinds that begin a case's chain.
STARTS: Final = (REPORTED, CYCLE_STARTED)

ALL: Final = frozenset(INPUTS + DERIVED + PASSIVE + SYSTEM)
