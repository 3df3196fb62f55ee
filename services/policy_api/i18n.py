"""The Transparency page's strings, in English and Spanish. Templates only hold keys."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

LANGUAGES = ("en", "es")
DEFAULT = "en"
#: The language policies and registry entries are written in.
CONTENT_LANGUAGE = "en"

_MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre"],
}

CATALOGUE: dict[str, dict[str, str]] = {
    "en": {
        "city": "City of Albuquerque",
        "skip": "Skip to main content",
        "lang.other": "Español",
        "lang.other.code": "es",
        "lang.switch_label": "Ver esta página en español",
        "nav.label": "On this page",
        "nav.policies": "Policies",
        "nav.accounts": "Official accounts",
        "nav.statistics": "Statistics",
        "nav.feedback": "Feedback and reports",
        "intro": "Under City Council Resolution R-24-89, every policy that governs the City's official social media "
                 "accounts is published here, with its full text, its version history and its review schedule, "
                 "together with the list of official accounts and a way to give feedback or report a possible "
                 "violation.",
        "policies.heading": "Policies",
        "policies.none": "No policy has been published yet.",
        "kind.social_media_policy": "Social media policy",
        "kind.administrative_instruction": "Administrative Instruction",
        "kind.department_guideline": "Department guideline",
        "kind.other": "Other policy",
        "policy.department": "Department",
        "policy.current_version": "Current version",
        "policy.status": "Status",
        "policy.retired_on": "withdrawn on {date}, without a successor",
        "policy.effective": "In effect since",
        "policy.effective_future": "Takes effect on",
        "policy.review": "Review status",
        "policy.read": "Read {identifier}",
        "policy.history": "Version history",
        "policy.compare_previous": "What changed from version {label}",
        "review.overdue": "Review overdue",
        "review.overdue_since": "Review overdue: it was due on {date}.",
        "review.due_on": "Next review due on {date}.",
        "review.due_soon": "Review due soon: on {date}.",
        "review.none": "No review scheduled.",
        "review.last": "Last reviewed on {date} ({outcome}).",
        "review.outcome.reaffirmed": "reaffirmed",
        "review.outcome.revision_started": "revision started",
        "review.every": "Reviewed every {months} months.",
        "reviews.heading": "Reviews",
        "reviews.none": "No review has been recorded yet.",
        "versions.heading": "Version history",
        "versions.version": "Version",
        "versions.state": "Status",
        "versions.effective": "Effective",
        "versions.ended": "Until",
        "versions.summary": "Summary of changes",
        "versions.compare": "Changes",
        "versions.compare_link": "Compare with version {label}",
        "versions.current_marker": "current",
        "state.published": "In force",
        "state.superseded": "Superseded",
        "state.retired": "Retired",
        "version.heading": "{identifier}, version {label}",
        "version.not_current": "This is not the version in force.",
        "version.see_current": "Read the current version",
        "version.elements": "R-24-89 elements covered",
        "version.contents": "Contents",
        "completeness.heading": "R-24-89 checklist",
        "completeness.covered": "Covered in",
        "completeness.missing": "Not covered",
        "diff.heading": "Changes from version {from_label} to version {to_label}",
        "diff.summary": "{added} added, {removed} removed, {changed} changed, {unchanged} unchanged sections.",
        "diff.added": "Added section",
        "diff.removed": "Removed section",
        "diff.changed": "Changed section",
        "diff.unchanged": "Unchanged",
        "diff.elements_added": "Elements now covered",
        "diff.elements_removed": "Elements no longer covered",
        "diff.legend": "Inserted words are underlined and enclosed in [+ +]; deleted words are struck through "
                       "and enclosed in [- -]. Markdown formatting is not shown.",
        "diff.ins_start": "[inserted: ",
        "diff.ins_end": " :end of insertion]",
        "diff.del_start": "[deleted: ",
        "diff.del_end": " :end of deletion]",
        "diff.download": "Download the unified diff of the source text (.patch)",
        "diff.text_label": "Text changes in {heading}",
        "accounts.heading": "Official City social media accounts",
        "accounts.intro": "Only these accounts speak for the City. Use this list to check that an account is "
                          "official before you rely on it or report it.",
        "accounts.platform": "Platform",
        "accounts.handle": "Account",
        "accounts.department": "Department",
        "accounts.purpose": "Purpose",
        "accounts.status": "Status",
        "accounts.pio": "Public information officer",
        "accounts.none": "No account is registered yet.",
        "accounts.table_label": "Official accounts",
        "account.active": "Active",
        "account.suspended": "Suspended",
        "account.retired": "Retired",
        "stats.heading": "Cases and monitoring",
        "stats.intro": "Numbers of reports and cases handled under the policy. Counts smaller than {threshold} "
                       "are not shown, to protect the people involved.",
        "stats.generated": "Figures as of {date}.",
        "stats.total": "Cases opened",
        "stats.median": "Median days to resolution",
        "stats.p90": "90% of cases resolved within (days)",
        "stats.restorative": "Restorative actions completed on time",
        "stats.by_category": "By kind of concern",
        "stats.by_outcome": "By outcome",
        "stats.by_department": "By department",
        "stats.by_state": "By stage",
        "stats.coverage": "Accounts monitored on schedule",
        "stats.key": "Item",
        "stats.count": "Number",
        "stats.suppressed": "fewer than {threshold}",
        "stats.accounts": "Accounts with a review due",
        "stats.reviewed": "Reviewed on schedule",
        "stats.share": "Share",
        "stats.new": "New (first review not yet due)",
        "stats.coverage_rule": "An account counts as monitored on schedule when its most recent review that has "
                               "come due was completed by its due date; accounts whose first review is not yet due "
                               "are shown as new and not counted.",
        "feedback.heading": "Give feedback or report a possible violation",
        "feedback.intro": "Tell us what you think of a policy, or report a post or reply on an official account "
                          "that may break it. You do not have to give your name.",
        "feedback.link": "Open the feedback and report form",
        "feedback.nojs": "If the form does not appear, use the link above: it works without JavaScript.",
        "footer.feed": "Updates (Atom feed)",
        "footer.api": "Open data (API)",
        "footer.resolution": "Published under City Council Resolution R-24-89.",
        "translation.note_label": "Translation.",
        "translation.note": "This is a translation. The English text is the official policy.",
        "translation.read_english": "Read the official English text",
        "translation.label": "Translation of the official English text.",
        "translation.missing": "Not translated yet: the official English text.",
        "back": "Back to all policies",
        "breadcrumb": "Breadcrumb",
        "transparency": "Transparency",
    },
    "es": {
        "city": "Ciudad de Albuquerque",
        "skip": "Saltar al contenido principal",
        "lang.other": "English",
        "lang.other.code": "en",
        "lang.switch_label": "View this page in English",
        "nav.label": "En esta página",
        "nav.policies": "Políticas",
        "nav.accounts": "Cuentas oficiales",
        "nav.statistics": "Estadísticas",
        "nav.feedback": "Comentarios y denuncias",
        "intro": "Conforme a la Resolución R-24-89 del Concejo Municipal, aquí se publican todas las políticas que "
                 "rigen las cuentas oficiales de la Ciudad en redes sociales, con su texto completo, su historial de "
                 "versiones y su calendario de revisión, junto con la lista de cuentas oficiales y una forma de "
                 "enviar comentarios o denunciar una posible infracción.",
        "policies.heading": "Políticas",
        "policies.none": "Todavía no se ha publicado ninguna política.",
        "kind.social_media_policy": "Política de redes sociales",
        "kind.administrative_instruction": "Instrucción Administrativa",
        "kind.department_guideline": "Directriz de departamento",
        "kind.other": "Otra política",
        "policy.department": "Departamento",
        "policy.current_version": "Versión vigente",
        "policy.status": "Estado",
        "policy.retired_on": "retirada el {date}, sin sustituta",
        "policy.effective": "Vigente desde",
        "policy.effective_future": "Entra en vigor el",
        "policy.review": "Estado de la revisión",
        "policy.read": "Leer {identifier}",
        "policy.history": "Historial de versiones",
        "policy.compare_previous": "Qué cambió desde la versión {label}",
        "review.overdue": "Revisión atrasada",
        "review.overdue_since": "Revisión atrasada: debía hacerse el {date}.",
        "review.due_on": "Próxima revisión: {date}.",
        "review.due_soon": "Revisión próxima: el {date}.",
        "review.none": "No hay revisión programada.",
        "review.last": "Última revisión: {date} ({outcome}).",
        "review.outcome.reaffirmed": "ratificada",
        "review.outcome.revision_started": "revisión iniciada",
        "review.every": "Se revisa cada {months} meses.",
        "reviews.heading": "Revisiones",
        "reviews.none": "Todavía no se ha registrado ninguna revisión.",
        "versions.heading": "Historial de versiones",
        "versions.version": "Versión",
        "versions.state": "Estado",
        "versions.effective": "Vigente desde",
        "versions.ended": "Hasta",
        "versions.summary": "Resumen de cambios",
        "versions.compare": "Cambios",
        "versions.compare_link": "Comparar con la versión {label}",
        "versions.current_marker": "vigente",
        "state.published": "Vigente",
        "state.superseded": "Reemplazada",
        "state.retired": "Retirada",
        "version.heading": "{identifier}, versión {label}",
        "version.not_current": "Esta no es la versión vigente.",
        "version.see_current": "Leer la versión vigente",
        "version.elements": "Elementos de la R-24-89 que cubre",
        "version.contents": "Contenido",
        "completeness.heading": "Lista de verificación de la R-24-89",
        "completeness.covered": "Cubierto en",
        "completeness.missing": "No cubierto",
        "diff.heading": "Cambios de la versión {from_label} a la versión {to_label}",
        "diff.summary": "Secciones: {added} añadidas, {removed} eliminadas, {changed} modificadas, "
                        "{unchanged} sin cambios.",
        "diff.added": "Sección añadida",
        "diff.removed": "Sección eliminada",
        "diff.changed": "Sección modificada",
        "diff.unchanged": "Sin cambios",
        "diff.elements_added": "Elementos que ahora cubre",
        "diff.elements_removed": "Elementos que ya no cubre",
        "diff.legend": "Las palabras añadidas están subrayadas y entre [+ +]; las eliminadas están tachadas y "
                       "entre [- -]. No se muestra el formato Markdown.",
        "diff.ins_start": "[añadido: ",
        "diff.ins_end": " :fin de lo añadido]",
        "diff.del_start": "[eliminado: ",
        "diff.del_end": " :fin de lo eliminado]",
        "diff.download": "Descargar el diff unificado del texto fuente (.patch)",
        "diff.text_label": "Cambios de texto en {heading}",
        "accounts.heading": "Cuentas oficiales de la Ciudad en redes sociales",
        "accounts.intro": "Solo estas cuentas hablan en nombre de la Ciudad. Use esta lista para comprobar que una "
                          "cuenta es oficial antes de confiar en ella o denunciarla.",
        "accounts.platform": "Plataforma",
        "accounts.handle": "Cuenta",
        "accounts.department": "Departamento",
        "accounts.purpose": "Propósito",
        "accounts.status": "Estado",
        "accounts.pio": "Oficial de información pública",
        "accounts.none": "Todavía no hay cuentas registradas.",
        "accounts.table_label": "Cuentas oficiales",
        "account.active": "Activa",
        "account.suspended": "Suspendida",
        "account.retired": "Retirada",
        "stats.heading": "Casos y monitoreo",
        "stats.intro": "Cantidad de denuncias y casos tramitados conforme a la política. No se muestran cifras "
                       "menores de {threshold}, para proteger a las personas involucradas.",
        "stats.generated": "Cifras al {date}.",
        "stats.total": "Casos abiertos",
        "stats.median": "Mediana de días hasta la resolución",
        "stats.p90": "El 90 % de los casos se resolvió en (días)",
        "stats.restorative": "Acciones restaurativas completadas a tiempo",
        "stats.by_category": "Por tipo de inquietud",
        "stats.by_outcome": "Por resultado",
        "stats.by_department": "Por departamento",
        "stats.by_state": "Por etapa",
        "stats.coverage": "Cuentas monitoreadas a tiempo",
        "stats.key": "Concepto",
        "stats.count": "Cantidad",
        "stats.suppressed": "menos de {threshold}",
        "stats.accounts": "Cuentas con una revisión vencida",
        "stats.reviewed": "Revisadas a tiempo",
        "stats.share": "Proporción",
        "stats.new": "Nuevas (primera revisión aún no vence)",
        "stats.coverage_rule": "Una cuenta se considera monitoreada a tiempo cuando su revisión más reciente que ya "
                               "venció se completó a más tardar en su fecha límite; las cuentas cuya primera revisión "
                               "aún no vence se muestran como nuevas y no se cuentan.",
        "feedback.heading": "Envíe comentarios o denuncie una posible infracción",
        "feedback.intro": "Díganos qué opina de una política, o denuncie una publicación o respuesta de una cuenta "
                          "oficial que pueda infringirla. No tiene que dar su nombre.",
        "feedback.link": "Abrir el formulario de comentarios y denuncias",
        "feedback.nojs": "Si el formulario no aparece, use el enlace de arriba: funciona sin JavaScript.",
        "footer.feed": "Novedades (canal Atom)",
        "footer.api": "Datos abiertos (API)",
        "footer.resolution": "Publicado conforme a la Resolución R-24-89 del Concejo Municipal.",
        "translation.note_label": "Traducción.",
        "translation.note": "Este texto es una traducción. La política oficial es el texto en inglés.",
        "translation.read_english": "Leer el texto oficial en inglés",
        "translation.label": "Traducción del texto oficial en inglés.",
        "translation.missing": "Aún sin traducir: texto oficial en inglés.",
        "back": "Volver a todas las políticas",
        "breadcrumb": "Ruta de navegación",
        "transparency": "Transparencia",
    },
}

PLATFORMS = {
    "facebook": "Facebook", "instagram": "Instagram", "x": "X", "threads": "Threads", "bluesky": "Bluesky",
    "tiktok": "TikTok", "youtube": "YouTube", "linkedin": "LinkedIn", "nextdoor": "Nextdoor", "other": "Other",
}

TITLES = {"es": "Políticas de redes sociales y cuentas oficiales"}


def pick(lang: str | None) -> str:
    """``es``, ``es-MX``, ``ES`` -> ``es``; anything unknown (``vi``) -> English, never an error."""
    primary = (lang or "").split("-")[0].split("_")[0].strip().lower()
    return primary if primary in LANGUAGES else DEFAULT


def translator(lang: str) -> Any:
    strings = CATALOGUE[pick(lang)]

    def t(key: str, **kw: Any) -> str:
        text = strings.get(key) or CATALOGUE[DEFAULT].get(key) or key
        return text.format(**kw) if kw else text

    return t


def format_date(value: date | datetime | None, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    month = _MONTHS[pick(lang)][value.month - 1]
    if pick(lang) == "es":
        return f"{value.day} de {month} de {value.year}"
    return f"{month} {value.day}, {value.year}"


# --- labels for the statistics and the registry (issue 19 item 6) -------------------------------
# Keys come from case_api's public metrics (categories, outcomes, stages) and from the registry
# (department names). An unknown key keeps a readable English form; ``is_translated`` tells the
# template to mark it lang="en" on the Spanish page.

LABELS: dict[str, dict[str, dict[str, str]]] = {
    "category": {
        "en": {"personal_attack": "Personal attack", "arguing_with_public": "Arguing with the public",
               "personal_opinion": "Personal opinion as the City", "misleading_information": "Misleading information",
               "disrespectful_response": "Disrespectful response", "other": "Other"},
        "es": {"personal_attack": "Ataque personal", "arguing_with_public": "Discusión con el público",
               "personal_opinion": "Opinión personal en nombre de la Ciudad",
               "misleading_information": "Información engañosa", "disrespectful_response": "Respuesta irrespetuosa",
               "other": "Otro"},
    },
    "outcome": {
        "en": {"dismissed": "Dismissed", "closed": "Closed", "sustained": "Sustained",
               "not_sustained": "Not sustained", "unfounded": "Unfounded", "exonerated": "Exonerated"},
        "es": {"dismissed": "Desestimado", "closed": "Cerrado", "sustained": "Fundado",
               "not_sustained": "No comprobado", "unfounded": "Infundado", "exonerated": "Exonerado"},
    },
    "state": {
        "en": {"received": "Received", "triaged": "Triaged", "dismissed": "Dismissed",
               "investigating": "Under investigation", "finding_recorded": "Finding recorded",
               "actions": "Actions under way", "closed": "Closed"},
        "es": {"received": "Recibido", "triaged": "Clasificado", "dismissed": "Desestimado",
               "investigating": "En investigación", "finding_recorded": "Conclusión registrada",
               "actions": "Medidas en curso", "closed": "Cerrado"},
    },
    "department": {
        "en": {},
        "es": {"Animal Welfare": "Bienestar Animal", "Arts & Culture": "Artes y Cultura", "Fire": "Bomberos",
               "Fire Rescue": "Bomberos y Rescate", "Libraries": "Bibliotecas", "Mayor's Office": "Oficina del Alcalde",
               "Office of the Mayor": "Oficina del Alcalde",
               "Office of the Chief Administrative Officer": "Oficina del Director Administrativo",
               "Parks and Recreation": "Parques y Recreación", "Police": "Policía",
               "Senior Affairs": "Asuntos de Personas Mayores", "Solid Waste": "Residuos Sólidos",
               "Transit": "Transporte Público", "Planning": "Planificación", "Family and Community Services":
               "Servicios para Familias y la Comunidad", "Communications": "Comunicaciones",
               "Legal": "Departamento Jurídico", "Human Resources": "Recursos Humanos",
               "City Clerk": "Secretaría Municipal", "Economic Development": "Desarrollo Económico",
               "Municipal Development": "Desarrollo Municipal", "Environmental Health": "Salud Ambiental",
               "Aviation": "Aviación", "Technology and Innovation": "Tecnología e Innovación",
               "City Council": "Concejo Municipal"},
    },
}


def label(dimension: str, key: str, lang: str) -> str:
    """The words for a metric key or a department in ``lang``; English, then a readable key."""
    table = LABELS.get(dimension, {})
    found = table.get(pick(lang), {}).get(key) or table.get(DEFAULT, {}).get(key)
    if found:
        return found
    return key if dimension == "department" else key.replace("_", " ").capitalize()


def is_translated(dimension: str, key: str, lang: str) -> bool:
    """False when ``label`` had to fall back to English on a page in another language."""
    return pick(lang) == DEFAULT or key in LABELS.get(dimension, {}).get(pick(lang), {})
