"""A public notice's words: the fields Relevo fills in, in each language it has templates for, and
the templates themselves (Relevo's own, in notices/, or a municipality's file).

Templates use `$field` placeholders (string.Template: `$$` is a dollar sign). A template that names
a field Relevo does not provide, or leaves out one of the points the law asks a notice to make
(REQUIRED), is refused naming it. Pure: the use case gathers the facts, this writes them.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import datetime
from importlib.resources import files
from zoneinfo import ZoneInfo

from relevo.errors import InvalidInput

# Every field a template may use, with what it holds.
FIELDS = {
    "service": "the service's name",
    "purpose": "that an automated system is used in the service, and for what decision",
    "decisions": "the answers the service gives",
    "change": "what changes",
    "planned_start": "when the change is planned to start (date, time and time zone)",
    "effect": "what it means for the citizen",
    "human_review": "how to ask for a review by a person, and how to contest a decision",
    "contest": "how to contest a decision (the record of automated decisions)",
    "contact": "whom to contact (the contact given, else the data controller and the DPO)",
    "controller": "the data controller (the record of processing)",
    "owner": "the service's accountable owner",
    "version": "the version that will answer",
    "notice_id": "the deployment notice's number",
    "given_on": "the date the notice was given",
}
# The transparency points a public notice must make (AI Act Art. 26(11) and 86, GDPR Art. 13, 14 and 22).
REQUIRED = ("purpose", "change", "planned_start", "human_review", "contact")
MAX_TEMPLATE = 20_000

MONTHS = {
    "es": "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre",
    "en": "January|February|March|April|May|June|July|August|September|October|November|December",
    "ca": "de gener|de febrer|de març|d'abril|de maig|de juny|de juliol|d'agost|de setembre|d'octubre|de novembre|"
          "de desembre",
}
# The sentences each language needs; {names} are filled from the facts.
WORDS = {
    "es": {
        "purpose": "El servicio {service} utiliza un sistema automatizado (un modelo de inteligencia artificial) para "
                   "proponer la respuesta a cada solicitud: {description}",
        "version": "el servicio pasa a usar una nueva versión del modelo ({version})",
        "rules": "cambian las reglas con las que el servicio decide",
        "none": "se actualiza la configuración del servicio, sin cambiar sus respuestas",
        "kinds": "Cambian también: {kinds}.",
        "input_fields": "los datos de la solicitud que el sistema tiene en cuenta",
        "personal_fields": "los datos personales que trata",
        "protected_inputs": "las características protegidas que lee",
        "decision_labels": "las respuestas posibles",
        "model_family": "el tipo de modelo",
        "training_data_source": "los datos con los que se entrenó",
        "at": "{day} de {month} de {year} a las {time} (hora {zone})",
        "effect": "Su solicitud se presenta y se tramita igual que ahora; el sistema solo cambia la forma en que se "
                  "propone la respuesta ({decisions}).",
        "reviewed": " Las respuestas {labels} las revisa siempre una persona antes de que surtan efecto.",
        "review": "Puede pedir que una persona revise la decisión sobre su caso{channel}.",
        "human_step": " {human_step}.",
        "contest": "Para recurrir una decisión: {contest}.",
        "contest_default": "las vías de recurso que indique la resolución",
        "contact": "{controller} (responsable del tratamiento)",
        "dpo": "; delegado de protección de datos: {dpo}",
        "owner": "{owner} (responsable del servicio)",
    },
    "en": {
        "purpose": "The service {service} uses an automated system (an artificial intelligence model) to propose "
                   "the answer to each application: {description}",
        "version": "the service moves to a new version of its model ({version})",
        "rules": "the rules the service decides by change",
        "none": "the service's configuration is updated, without changing its answers",
        "kinds": "Also changing: {kinds}.",
        "input_fields": "the application data the system takes into account",
        "personal_fields": "the personal data it processes",
        "protected_inputs": "the protected characteristics it reads",
        "decision_labels": "the possible answers",
        "model_family": "the kind of model",
        "training_data_source": "the data it was trained on",
        "at": "{day} {month} {year} at {time} ({zone} time)",
        "effect": "Your application is made and handled as it is now; only the way its answer is proposed changes "
                  "({decisions}).",
        "reviewed": " A person always reviews the answers {labels} before they take effect.",
        "review": "You may ask for a person to review the decision on your case{channel}.",
        "human_step": " {human_step}.",
        "contest": "To contest a decision: {contest}.",
        "contest_default": "the means of appeal the decision states",
        "contact": "{controller} (data controller)",
        "dpo": "; data protection officer: {dpo}",
        "owner": "{owner} (service owner)",
    },
    "ca": {
        "purpose": "El servei {service} utilitza un sistema automatitzat (un model d'intel·ligència artificial) per "
                   "proposar la resposta a cada sol·licitud: {description}",
        "version": "el servei passa a fer servir una nova versió del model ({version})",
        "rules": "canvien les regles amb què el servei decideix",
        "none": "s'actualitza la configuració del servei, sense canviar-ne les respostes",
        "kinds": "També canvien: {kinds}.",
        "input_fields": "les dades de la sol·licitud que el sistema té en compte",
        "personal_fields": "les dades personals que tracta",
        "protected_inputs": "les característiques protegides que llegeix",
        "decision_labels": "les respostes possibles",
        "model_family": "el tipus de model",
        "training_data_source": "les dades amb què es va entrenar",
        "at": "{day} {month} de {year} a les {time} (hora {zone})",
        "effect": "La seva sol·licitud es presenta i es tramita igual que ara; el sistema només canvia la manera com "
                  "se'n proposa la resposta ({decisions}).",
        "reviewed": " Les respostes {labels} les revisa sempre una persona abans que tinguin efecte.",
        "review": "Pot demanar que una persona revisi la decisió sobre el seu cas{channel}.",
        "human_step": " {human_step}.",
        "contest": "Per recórrer una decisió: {contest}.",
        "contest_default": "les vies de recurs que indiqui la resolució",
        "contact": "{controller} (responsable del tractament)",
        "dpo": "; delegat de protecció de dades: {dpo}",
        "owner": "{owner} (responsable del servei)",
    },
}


@dataclass(frozen=True)
class NoticeFacts:
    """What a public notice says, gathered from the notice, the spec and the records in force."""

    service: str
    description: str
    decisions: list[str]
    version: str
    planned_at: datetime
    timezone: str | None
    changes: list[str]  # version, rules, then the kinds of significant difference
    notice_id: int
    given_at: datetime
    summary: str | None = None
    contact: str | None = None
    review_channel: str | None = None
    reviewed_labels: list[str] = field(default_factory=list)
    human_step: str | None = None
    contest: str | None = None
    controller: str | None = None
    dpo: str | None = None
    owner: str = ""


def relevo_template(language: str) -> str:
    """Relevo's own public-notice template in language."""
    return files("relevo.governance").joinpath("notices", f"public.{language}.md").read_text(encoding="utf-8")


def template_fields(text: str, source: str) -> set[str]:
    """The fields a template names; InvalidInput for a `$` that starts no field (write `$$` for a dollar)."""
    named = set()
    for match in string.Template.pattern.finditer(text):
        if match.group("invalid") is not None:
            line = text.count("\n", 0, match.start("invalid")) + 1
            raise InvalidInput(f"the notice template {source}, line {line}: a `$` that starts no field (write $$ for "
                               "a dollar sign, ${field} or $field for a field)")
        name = match.group("named") or match.group("braced")
        if name:
            named.add(name)
    return named


def check_template(text: str, source: str) -> None:
    """InvalidInput naming a field Relevo does not provide, or a transparency point the template leaves out."""
    if len(text) > MAX_TEMPLATE:
        raise InvalidInput(f"the notice template {source} is longer than {MAX_TEMPLATE} characters")
    used = template_fields(text, source)
    unknown = sorted(used - set(FIELDS))
    if unknown:
        raise InvalidInput(f"the notice template {source} uses the field ${unknown[0]}, which Relevo does not provide; "
                           "its fields: " + ", ".join(f"${f}" for f in FIELDS))
    missing = [f for f in REQUIRED if f not in used]
    if missing:
        raise InvalidInput(f"the notice template {source} lacks ${missing[0]} ({FIELDS[missing[0]]}): a public notice "
                           "must say it (required: " + ", ".join(f"${f}" for f in REQUIRED) + ")")


def _when(at: datetime, zone_name: str | None, language: str) -> str:
    zone = ZoneInfo(zone_name) if zone_name else ZoneInfo("UTC")
    local = at.astimezone(zone)
    month = MONTHS[language].split("|")[local.month - 1]
    return WORDS[language]["at"].format(day=local.day, month=month, year=local.year, time=f"{local:%H:%M}",
                                        zone=zone.key)


def field_values(facts: NoticeFacts, language: str) -> dict[str, str]:
    """Every field's value for facts, in language."""
    w = WORDS[language]
    decisions = ", ".join(facts.decisions)
    description = facts.description.strip().rstrip(".") + "." if facts.description.strip() else decisions + "."
    main = [w[c].format(version=facts.version) for c in facts.changes if c in ("version", "rules")] or [w["none"]]
    change = "; ".join(main)
    change = change[0].upper() + change[1:] + "."
    kinds = [w[c] for c in facts.changes if c not in ("version", "rules")]
    if kinds:
        change += " " + w["kinds"].format(kinds=", ".join(kinds))
    if facts.summary:
        change = facts.summary.strip().rstrip(".") + ". " + change
    effect = w["effect"].format(decisions=decisions)
    if facts.reviewed_labels:
        effect += w["reviewed"].format(labels=", ".join(facts.reviewed_labels))
    contest = (facts.contest or "").strip().rstrip(".") or w["contest_default"]
    review = w["review"].format(channel=f": {facts.review_channel.strip()}" if facts.review_channel else "")
    step = (facts.human_step or "").strip().rstrip(".")
    if step:
        review += w["human_step"].format(human_step=step[0].upper() + step[1:])
    review += " " + w["contest"].format(contest=contest)
    if facts.contact:
        contact = facts.contact.strip()
    elif facts.controller:
        contact = w["contact"].format(controller=facts.controller) + (w["dpo"].format(dpo=facts.dpo) if facts.dpo else "")
    else:
        contact = w["owner"].format(owner=facts.owner or facts.service)
    return {"service": facts.service, "purpose": w["purpose"].format(service=facts.service, description=description),
            "decisions": decisions, "change": change, "planned_start": _when(facts.planned_at, facts.timezone, language),
            "effect": effect, "human_review": review, "contest": contest, "contact": contact,
            "controller": facts.controller or "", "owner": facts.owner, "version": facts.version,
            "notice_id": str(facts.notice_id), "given_on": f"{facts.given_at:%Y-%m-%d}"}


def render_notice(template: str, facts: NoticeFacts, language: str, source: str) -> str:
    """The public notice: template (checked) filled with facts' fields in language."""
    check_template(template, source)
    return string.Template(template).substitute(field_values(facts, language))
