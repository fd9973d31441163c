"""Languages: bokmål by default, English by the browser's Accept-Language or by the switch in the
footer, and an English catalogue with nothing left untranslated."""
from __future__ import annotations

import io
import re

from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from tests.support.web import csrf_of, login
from webui import i18n, present

EN = {"Accept-Language": "en-GB,en;q=0.9"}
TASK_LINK = re.compile(r'href="/oppgaver/([0-9a-f-]{36})"')
PO = i18n.SOURCE_DIR / "en" / "LC_MESSAGES" / "messages.po"


def _report(client, env, headers=None):
    page = client.get("/melding/ny", headers=headers)
    data = {"_csrf": csrf_of(page.text), "_once": re.search(r'name="_once" value="([^"]+)"', page.text)[1],
            "school_id": str(env.nordli), "berorte_elever": "Emma, Vg1", "klasse": "1STA",
            "hva_skjedde": "Blir holdt utenfor.", "tid_og_sted": "Friminuttet", "kjent_dato": "2026-11-30",
            "krenker_type": "elev", "krenker_navn": "", "anklaget_bruker": "", "meldt_pa_vegne_av": "elev"}
    response = client.post("/melding/ny", data=data, headers=headers)
    assert response.status_code == 302, response.text
    return client.get(response.location, headers=headers)


def test_norwegian_by_default(env):
    text = env.app.test_client().get("/logg-inn").text
    assert '<html lang="nb">' in text
    assert "<h1>Logg inn</h1>" in text and "Brukernavn" in text
    assert 'hreflang="en">English</a>' in text


def test_norwegian_browsers_get_bokmal(env):
    for header in ("nb-NO,nb;q=0.9", "no", "da, no;q=0.8", "fr"):
        text = env.app.test_client().get("/logg-inn", headers={"Accept-Language": header}).text
        assert '<html lang="nb">' in text, header


def test_english_log_in_page(env):
    text = env.app.test_client().get("/logg-inn", headers=EN).text
    assert '<html lang="en">' in text
    assert "<h1>Log in</h1>" in text and ">Username<" in text and ">Password<" in text
    assert "Brukernavn" not in text
    assert 'hreflang="nb">Bokmål</a>' in text


def test_english_wrong_password(env):
    client = env.app.test_client()
    page = client.get("/logg-inn", headers=EN)
    response = client.post("/logg-inn", headers=EN, data={"_csrf": csrf_of(page.text), "username": "ansatt",
                                                          "password": "wrong"})
    assert response.status_code == 401
    assert "Wrong username or password." in response.text


def test_english_report_form_task_list_and_case_page(env):
    client = login(env.app, "ansatt")
    form = client.get("/melding/ny", headers=EN).text
    assert "<h1>Report a concern</h1>" in form and "Send the report" in form and "(optional)" in form
    # The form's own questions: the form version's English texts.
    assert "Which pupil or pupils does it concern?" in form and "Hvilken elev eller hvilke elever" not in form
    receipt = _report(client, env, EN).text
    assert "Thank you – the report has been sent" in receipt
    assert "head of department, head teacher or deputy head" in receipt

    leader = login(env.app, "avdelingsleder")
    tasks = leader.get("/oppgaver", headers=EN).text
    assert "<h1>My tasks</h1>" in tasks and "Due:" in tasks and "Take the task" in tasks
    assert re.search(r"(Monday|Tuesday|Wednesday|Thursday|Friday) \d\d\.\d\d\.\d{4} at \d\d:\d\d", tasks)
    assert "Mine oppgaver" not in tasks and " kl. " not in tasks

    task = leader.get(f"/oppgaver/{TASK_LINK.search(tasks)[1]}", headers=EN).text
    case_id = re.search(r'href="/saker/(\d+)"', task)[1]
    case = leader.get(f"/saker/{case_id}", headers=EN).text
    assert '<html lang="en">' in case
    for words in ("What has happened", "Summary", "Next deadline", "Statsforvalteren (the county governor)",
                  "Reported the case", "New task:", "Procedure A – a pupil harms a pupil (§ 12-4)",
                  "Reclassify the case"):
        assert words in case, words
    assert ">Hva har skjedd</h2>" not in case and ">What has happened</h2>" in case


def test_switch_sets_the_cookie_and_goes_back(env):
    client = env.app.test_client()
    response = client.get("/sprak/en?neste=/logg-inn%3Fnext%3D/saker")
    assert response.status_code == 302
    assert response.location == "/logg-inn?next=/saker"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lang=en;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # The cookie wins over the browser's language.
    text = client.get("/logg-inn", headers={"Accept-Language": "nb"}).text
    assert '<html lang="en">' in text and "<h1>Log in</h1>" in text
    back = client.get("/sprak/nb?neste=/logg-inn")
    assert back.location == "/logg-inn"
    assert '<html lang="nb">' in client.get("/logg-inn", headers=EN).text


def test_switch_by_post_with_the_csrf_token(env):
    client = login(env.app, "ansatt")
    token = csrf_of(client.get("/oppgaver").text)
    response = client.post("/sprak/en", data={"_csrf": token, "neste": "/saker"})
    assert response.status_code == 302 and response.location == "/saker"
    assert "<h1>Cases</h1>" in client.get("/saker").text
    assert client.post("/sprak/nb", data={"neste": "/saker"}).status_code == 400  # no token, no change


def test_switch_only_redirects_on_this_site(env):
    client = env.app.test_client()
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "evil.example",
                   "javascript:alert(1)", ""):
        response = client.get("/sprak/en", query_string={"neste": target})
        assert response.status_code == 302
        assert response.location == "/oppgaver", target
    unknown = client.get("/sprak/de?neste=/saker")
    assert unknown.location == "/oppgaver" and "Set-Cookie" not in unknown.headers


def test_english_error_page(env):
    client = login(env.app, "ansatt")
    response = client.get("/finnes-ikke", headers=EN)
    assert response.status_code == 404
    assert "Page not found" in response.text and "To My tasks" in response.text


def test_every_message_is_translated():
    with PO.open("rb") as f:
        catalog = read_po(f, locale="en")
    untranslated = [m.id for m in catalog if m.id and (
        not all(m.string) if isinstance(m.string, tuple) else not m.string)]
    assert not untranslated
    assert not [m.id for m in catalog if m.id and m.fuzzy]
    assert len(catalog) > 300


def test_placeholders_survive_translation():
    with PO.open("rb") as f:
        catalog = read_po(f, locale="en")
    pattern = re.compile(r"%\((\w+)\)[sd]")
    for m in catalog:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = set(pattern.findall(ids[-1]))
        for s in strings:
            assert set(pattern.findall(s)) == wanted, m.id


def test_catalogue_compiles(tmp_path):
    with PO.open("rb") as f:
        catalog = read_po(f, locale="en")
    out = io.BytesIO()
    write_mo(out, catalog)
    out.seek(0)
    assert read_mo(out).get("Mine oppgaver").string == "My tasks"
    compiled = i18n.compile_catalogues(tmp_path)
    mo = compiled / "en" / "LC_MESSAGES" / "messages.mo"
    assert mo.stat().st_size > 1000
    stamp = mo.stat().st_mtime_ns
    i18n.compile_catalogues(tmp_path)  # up to date: left alone
    assert mo.stat().st_mtime_ns == stamp


def test_a_forced_language_is_spoken_inside_and_the_pages_language_after(env):
    """The translations and language a request keeps (looked up once, not on every word) give
    way to a forced language, as the bokmål exports force it, and come back after: the words of
    Python and of templates, the words translated when shown (a status, a weekday) and the
    language the diagrams' names are chosen by."""
    def spoken():
        template = env.app.jinja_env.from_string(
            "{{ _('Frist:') }}|{{ ngettext('%(num)d oppgave, den med kortest frist først.', "
            "'%(num)d oppgaver, den med kortest frist først.', 2) }}")
        return (i18n.gettext("Frist:"), template.render(), str(present.STATUS_WORDS["closed"]),
                str(present.WEEKDAYS[0]), i18n.current_language())

    with env.app.test_request_context("/oppgaver", headers=EN):
        before = spoken()
        with i18n.forced_locale("nb"):
            inside = spoken()
        after = spoken()
    assert before == after == ("Due:", "Due:|2 tasks, the one due soonest first.", "Closed", "Monday", "en")
    assert inside == ("Frist:", "Frist:|2 oppgaver, den med kortest frist først.", "Avsluttet", "mandag", "nb")


def test_a_templates_words_escape_what_is_put_into_them_in_html_only(env):
    """A template's ``_()`` keeps Jinja's newstyle rules: in HTML the translated text is kept and
    the values put into it are escaped; in text (a mail), nothing is escaped; a text is always
    formatted, so «%%» is «%» with or without values."""
    with env.app.test_request_context("/oppgaver", headers=EN):
        html = env.app.jinja_env.from_string("{{ _('Tatt av %(name)s', name=who) }}|{{ _('100%%') }}")
        text = env.app.jinja_env.from_string("{% autoescape false %}{{ _('Tatt av %(name)s', name=who) }}"
                                             "{% endautoescape %}")
        assert html.render(who="<b>Ola & Kari</b>") == "Taken by &lt;b&gt;Ola &amp; Kari&lt;/b&gt;|100%"
        assert text.render(who="<b>Ola & Kari</b>") == "Taken by <b>Ola & Kari</b>"
        # Any name may be a variable, as in Jinja's: the texts and the number are positional.
        named = env.app.jinja_env.from_string("{{ _('%(string)s', string='a') }}|"
                                              "{{ ngettext('%(num)s sak', '%(num)s saker', 2, num='to') }}")
        assert named.render() == "a|to saker"
