"""The process owners' and administrators' pages in nynorsk and English too: the diagram
checker's problems (kap12's own, the sandbox's and the deploy's), the form editor's problems,
the processes by their translated names, and the refusals of withdrawing a version — while
every such sentence stays bokmål where it is stored or logged."""
from __future__ import annotations

import html
import json

from engine.config import PROJECT_ROOT
from engine.versions import definitions
from engine.write.demo import report_data
from processes import forms
from processes.messages import Message, bokmal
from tests.support.sandbox_escapes import sandbox_diagram
from tests.support.web import csrf_of, login, token

NN = {"Accept-Language": "nn"}
EN = {"Accept-Language": "en"}
PROSEDYRE_A = (PROJECT_ROOT / "bpmn" / "prosedyre_a.bpmn").read_text()


def _validate(client, xml: str, headers: dict) -> dict:
    return client.post("/prosesser/valider", data=json.dumps({"xml": xml, "filename": "prosedyre_a.bpmn"}),
                       content_type="application/json",
                       headers={"X-CSRF-Token": token(client, "/prosesser"), **headers}).json


def test_diagram_problems_in_the_readers_language(env):
    owner = login(env.app, "prosesseier")
    broken = PROSEDYRE_A.replace('camunda:formKey="varsle_skoleeier"', 'camunda:formKey="finnes_ikke"')
    broken = broken.replace('name="Rektor">', 'name="Rektorat">', 1)
    nn = {p["element"]: p["message"] for p in _validate(owner, broken, NN)["problems"]}
    assert nn["Task_varsle_skoleeier"].startswith("Brukaroppgåva «")
    assert "viser til skjemaet «finnes_ikke», som ikkje finst." in nn["Task_varsle_skoleeier"]
    assert nn["Lane_prosedyre_a_1"].startswith("Symjebana «Rektorat» i prosessen «prosedyre_a» svarar ikkje")
    en = {p["element"]: p["message"] for p in _validate(owner, broken, EN)["problems"]}
    assert "refers to the form «finnes_ikke», which does not exist." in en["Task_varsle_skoleeier"]
    nb = {p["element"]: p["message"] for p in _validate(owner, broken, {})["problems"]}
    assert nb["Lane_prosedyre_a_1"].startswith("Svømmebanen «Rektorat» i prosessen «prosedyre_a» svarer ikke")
    garbage = _validate(owner, "<nope", NN)["problems"][0]["message"]
    assert garbage.startswith("Fila prosedyre_a.bpmn er ikkje gyldig XML:")


def test_the_sandbox_refuses_in_the_readers_language(env):
    owner = login(env.app, "prosesseier")
    xml = sandbox_diagram(timer="(__import__('os').getcwd(), 'PT1H')[1]").decode("utf-8")
    [nn] = [p["message"] for p in _validate(owner, xml, NN)["problems"] if p["element"] == "Frist"]
    assert nn.startswith("Tidsuttrykket «") and "på hendinga «Frist» (Frist) kan ikkje reknast ut:" in nn
    assert "namnet «__import__» byrjar med _, og slike namn er ikkje tillatne" in nn
    assert "«.getcwd» er ikkje tillate" in nn and "metodane som kan brukast, er" in nn and "ikke" not in nn
    [en] = [p["message"] for p in _validate(owner, xml, EN)["problems"] if p["element"] == "Frist"]
    assert "on the event «Frist» (Frist) cannot be computed:" in en
    assert "the name «__import__» starts with _, and such names are not allowed" in en


def test_form_declaration_problems_in_nynorsk(env):
    owner = login(env.app, "prosesseier")
    url = "/prosesser/skjema/motta_melding"
    broken = json.loads((forms.FORMS_FOLDER / "motta_melding.json").read_text(encoding="utf-8"))
    broken["fields"][0]["type"] = "tekstboks"
    page = owner.post(url, headers=NN, data={"_csrf": csrf_of(owner.get(url).text), "action": "validate",
                                             "declaration": json.dumps(broken)})
    assert page.status_code == 422
    text = html.unescape(page.text)
    assert "har ukjend type 'tekstboks'" in text and "har ukjent type" not in text


def test_processes_by_their_translated_names(env):
    owner = login(env.app, "prosesseier")
    assert "Prosedyre A – elev krenkjer elev (§ 12-4)" in owner.get("/prosesser", headers=NN).text
    assert "Procedure A – a pupil harms a pupil (§ 12-4)" in owner.get("/prosesser", headers=EN).text
    assert "Prosedyre A – elev krenker elev (§ 12-4)" in owner.get("/prosesser").text
    version = owner.get("/prosesser/prosedyre_a/versjon/1", headers=NN).text
    assert "<h1>Prosedyre A – elev krenkjer elev (§ 12-4) – versjon 1</h1>" in version


def test_a_version_in_use_is_kept_with_a_nynorsk_message(env):
    env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data())
    with env.kap12.db.reading() as session:
        used = definitions.latest_version(session, "kap12_sak").version
    admin = login(env.app, "admin")
    csrf = csrf_of(admin.get(f"/prosesser/kap12_sak/versjon/{used}").text)
    refused = admin.post(f"/prosesser/kap12_sak/versjon/{used}/trekk-tilbake", headers=NN,
                         data={"_csrf": csrf, "begrunnelse": "prøver"})
    page = html.unescape(admin.get(refused.headers["Location"], headers=NN).text)
    assert f"Versjon {used} av «kap12_sak» blir brukt av" in page and "kan ikkje trekkjast tilbake" in page


def test_a_sentence_made_on_a_nynorsk_page_is_stored_in_bokmal(env):
    with env.app.test_request_context("/", headers=NN):
        element = Message("%(word)s «%(name)s» (%(id)s)", word=Message("Brukeroppgaven"), name="Motta", id="T1")
        sentence = Message("%(element)s har ikke noe skript.", element=element)
        assert str(sentence) == "Brukaroppgåva «Motta» (T1) har ikkje noko skript."
        assert bokmal(sentence) == "Brukeroppgaven «Motta» (T1) har ikke noe skript."
