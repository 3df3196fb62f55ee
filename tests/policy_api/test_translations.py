"""Issue 20 item 3: a version may carry a Spanish translation of each section, set by an editor,
labelled as a translation on the Spanish Transparency page; the English text stays authoritative
(completeness is judged on it)."""

from __future__ import annotations

from tests.policy_api.helpers import create_draft, create_policy, full_sections, published_policy


async def _sections(api, token, policy_id: str, version_id: str) -> list[dict]:
    r = await api.get(f"/v1/policies/{policy_id}/versions/{version_id}", headers=token("policy_editor"))
    assert r.status_code == 200, r.text
    return r.json()["sections"]


def _path(policy_id: str, version_id: str, lang: str = "es") -> str:
    return f"/v1/policies/{policy_id}/versions/{version_id}/translations/{lang}"


async def test_an_editor_translates_sections_and_the_spanish_page_shows_them_as_a_translation(api, token):
    policy, version = await published_policy(api, token)
    sections = await _sections(api, token, policy["id"], version["id"])
    first, second = sections[0], sections[1]
    body = {"sections": [
        {"section_id": first["id"], "heading": "Expectativas de conducta",
         "body_markdown": "El personal **respeta** a los vecinos."},
        {"section_id": second["id"], "heading": "Contenido", "body_markdown": "Texto sobre el contenido."},
    ]}
    r = await api.put(_path(policy["id"], version["id"]), json=body, headers=token("policy_editor", subject="ed-1"))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["authoritative_lang"] == "en" and out["lang"] == "es"
    assert [s["section_id"] for s in out["sections"]] == [first["id"], second["id"]]
    assert out["sections"][0]["body_html"].count("<strong>respeta</strong>") == 1
    assert out["sections"][0]["translated_by"] == "ed-1"

    # Setting it again replaces it (no second row), and the staff GET reads it back.
    body["sections"] = [{"section_id": second["id"], "heading": "Especificaciones de contenido",
                         "body_markdown": "Qué se publica."}]
    again = await api.put(_path(policy["id"], version["id"]), json=body, headers=token("policy_editor"))
    assert again.status_code == 200
    got = (await api.get(_path(policy["id"], version["id"]), headers=token("policy_editor"))).json()
    assert [s["heading"] for s in got["sections"]] == ["Expectativas de conducta", "Especificaciones de contenido"]

    es = (await api.get(f"/transparency/policies/{policy['id']}", params={"lang": "es"})).text
    assert 'id="translation-note"' in es and "La política oficial es el texto en inglés." in es
    assert "El personal <strong>respeta</strong> a los vecinos." in es
    assert '<h3 id="h-' + first["key"] + '">Expectativas de conducta</h3>' in es
    assert "Traducción del texto oficial en inglés." in es
    # an untranslated section stays English, marked so, and says it is not translated yet
    assert f'<h3 id="h-{sections[2]["key"]}" lang="en">{sections[2]["heading"]}</h3>' in es
    assert "Aún sin traducir" in es
    # the English page shows the English only
    en = (await api.get(f"/transparency/policies/{policy['id']}")).text
    assert "Expectativas de conducta" not in en and "translation-note" not in en


async def test_completeness_is_judged_on_the_english_text(api, token):
    """An element whose English section has no text is not covered, whatever the Spanish says."""
    policy = await create_policy(api, token, identifier="SMP-T")
    sections = full_sections()
    sections[0]["body_markdown"] = ""
    draft = await create_draft(api, token, policy["id"], sections=sections)
    rows = await _sections(api, token, policy["id"], draft["id"])
    empty = next(s for s in rows if s["key"] == rows[0]["key"])

    async def covered() -> dict[str, bool]:
        r = await api.get(f"/v1/policies/{policy['id']}/versions/{draft['id']}/completeness",
                          headers=token("policy_editor"))
        assert r.status_code == 200, r.text
        return {i["key"]: i["covered"] for i in r.json()["items"]}

    before = await covered()
    assert before[sections[0]["elements"][0]] is False
    r = await api.put(_path(policy["id"], draft["id"]), headers=token("policy_editor"), json={"sections": [
        {"section_id": empty["id"], "heading": "Expectativas", "body_markdown": "Un texto completo en español."}]})
    assert r.status_code == 200, r.text
    assert await covered() == before


async def test_translations_are_checked_and_only_editors_set_them(api, token):
    policy, version = await published_policy(api, token)
    other, other_version = await published_policy(api, token, identifier="SMP-2")
    foreign = (await _sections(api, token, other["id"], other_version["id"]))[0]
    own = (await _sections(api, token, policy["id"], version["id"]))[0]
    path = _path(policy["id"], version["id"])
    bad = await api.put(path, headers=token("policy_editor"), json={"sections": [
        {"section_id": foreign["id"], "heading": "X", "body_markdown": "Texto."}]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"][-1] == "section_id"
    empty = await api.put(path, headers=token("policy_editor"), json={"sections": [
        {"section_id": own["id"], "heading": "X", "body_markdown": "**  **"}]})
    assert empty.status_code == 422
    twice = {"section_id": own["id"], "heading": "X", "body_markdown": "Texto."}
    assert (await api.put(path, headers=token("policy_editor"), json={"sections": [twice, twice]})).status_code == 422
    assert (await api.put(_path(policy["id"], version["id"], "fr"), headers=token("policy_editor"),
                          json={"sections": [twice]})).status_code == 422
    assert (await api.put(path, headers=token("investigator"), json={"sections": [twice]})).status_code == 403
    assert (await api.put(path, json={"sections": [twice]})).status_code == 401
    assert (await api.put(_path(policy["id"], other_version["id"]), headers=token("policy_editor"),
                          json={"sections": [twice]})).status_code == 404
    # nothing was stored by the refused requests
    got = (await api.get(path, headers=token("policy_editor"))).json()
    assert got["sections"] == []
