"""What the one generic form template needs: the values to show, the number of rows in each
group, and the errors in a shape the template can walk."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _

from processes import forms

from .form_post import from_html_form
from .i18n import current_language

ADD_ROW = "_add_row"


def shown(form: forms.Form) -> forms.Form:
    """The form with its questions in the page's language, where its declaration has them."""
    return forms.localised(form, current_language())


@dataclass
class FormState:
    form: forms.Form
    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    extra_rows: dict = field(default_factory=dict)  # group name -> rows to add after the filled ones
    widgets: dict = field(default_factory=dict)  # field name -> {"options": [(value, label)], "hint": …}

    def __post_init__(self):
        # Shown in the page's language; names and values are the same, so the data are too.
        self.form = shown(self.form)

    def rows(self, group: forms.Field) -> list[dict]:
        filled = list(self.values.get(group.name) or [])
        count = max(len(filled), group.min_items, 1) + self.extra_rows.get(group.name, 0)
        return filled + [{} for _ in range(count - len(filled))]

    def error(self, name: str):
        """Messages for a plain field: a list of strings."""
        found = self.errors.get(name)
        if isinstance(found, list):
            return [str(m) for m in found]
        if isinstance(found, str):
            return [found]
        return []

    def group_error(self, name: str):
        """Messages about a whole group (e.g. too few rows)."""
        found = self.errors.get(name)
        if isinstance(found, list):
            return [str(m) for m in found]
        return []

    def row_error(self, group: str, index: int, name: str):
        found = self.errors.get(group)
        if not isinstance(found, dict):
            return []
        row = found.get(index, found.get(str(index)))
        if not isinstance(row, dict):
            return []
        messages = row.get(name) or []
        return [str(m) for m in (messages if isinstance(messages, list) else [messages])]

    def condition(self, f: forms.Field) -> str:
        """A sentence for a field that is required only when another field has certain values."""
        parts = []
        for other, values in getattr(f, "required_when", ()):
            target = next((x for x in self.form.fields if x.name == other), None)
            if target is None:
                continue
            labels = {c.value: c.label for c in target.choices}
            words = _(" eller ").join(f"«{labels.get(v, v)}»" for v in values)
            parts.append(_("Må fylles ut når «%(label)s» er %(values)s.", label=target.label, values=words))
        return " ".join(parts)

    def summary(self) -> list[tuple[str, str]]:
        """(anchor, sentence) for each field with an error, in form order: the list at the top."""
        items = []
        for name, messages in self.errors.items():
            if not any(f.name == name for f in self.form.fields) and name != "_schema":
                items.append((f"f-{name}", " ".join(str(m) for m in messages)))  # e.g. the school
        for f in self.form.fields:
            if f.name not in self.errors:
                continue
            if f.type == "group" and isinstance(self.errors[f.name], dict):
                items.append((f"f-{f.name}", _("%(label)s – noen rader mangler noe.", label=f.label)))
            else:
                items.append((f"f-{f.name}", f"{f.label} – {' '.join(self.error(f.name))}"))
        for m in self.errors.get("_schema", []) if isinstance(self.errors.get("_schema"), list) else []:
            items.append(("", str(m)))
        return items


def from_post(form: forms.Form, post) -> FormState:
    """What the user typed (nothing dropped), plus one more row if they pressed «Legg til rad»."""
    state = FormState(form, from_html_form(form, post))
    group = post.get(ADD_ROW)
    if group and any(f.name == group and f.type == "group" for f in form.fields):
        # Blank rows are dropped by from_html_form; keep the ones on screen, plus one.
        on_screen = _rows_on_screen(post, group)
        filled = len(state.values.get(group) or [])
        state.extra_rows[group] = max(on_screen - filled, 0) + 1
    return state


def _rows_on_screen(post, group: str) -> int:
    prefix = f"{group}-"
    indices = {k[len(prefix):].split("-", 1)[0] for k in post.keys() if k.startswith(prefix)}
    return len([i for i in indices if i.isdigit()])


def wants_row(post) -> bool:
    return bool(post.get(ADD_ROW))
