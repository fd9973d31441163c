"""Ending a case otherwise on the case page: only rektor (A) sees the form; bad input is shown
again with plain errors and nothing lost; a good one closes the case and makes the letter."""
from __future__ import annotations

from engine.write.demo import complete_next, report_data
from tests.support.web import csrf_of, login

FORM = {"grunn": "utenfor_kap12", "begrunnelse": "Gjelder en krangel på fritiden, ikke på skolen.",
        "eleven_hort": "ja", "elevens_stemme": "Det var ikke på skolen."}


def test_rektor_ends_a_case_on_the_case_page(env):
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data())
    complete_next(env.kap12, env.demo.users["avdelingsleder"], case.id)  # received: assessed, not unread
    url = f"/saker/{case.id}"
    leader = login(env.app, "avdelingsleder")
    page = leader.get(url)
    assert "Avslutte saken av annen grunn" not in page.text
    assert leader.post(f"{url}/avslutt", data={"_csrf": csrf_of(page.text), **FORM}).status_code == 403
    rektor = login(env.app, "rektor")
    page = rektor.get(url)
    assert "Avslutte saken av annen grunn" in page.text and 'name="grunn"' in page.text
    bad = rektor.post(f"{url}/avslutt", data={"_csrf": csrf_of(page.text), **FORM, "eleven_hort": "nei",
                                              "elevens_stemme": ""})
    assert bad.status_code == 422 and "Gjelder en krangel på fritiden" in bad.text
    assert "Hvorfor var det ikke mulig å høre eleven?" in bad.text and 'aria-invalid="true"' in bad.text
    done = rektor.post(f"{url}/avslutt", data={"_csrf": csrf_of(page.text), **FORM})
    assert done.status_code == 302
    page = rektor.get(url, follow_redirects=True)
    assert "Avsluttet saken av annen grunn: Meldingen gjelder ikke skolemiljøet etter kapittel 12" in page.text
    assert "Avslutte saken av annen grunn" not in page.text  # closed: the form is gone
    assert "Avsluttet av annen grunn" in page.text and "Det var ikke på skolen." in page.text  # among the steps
