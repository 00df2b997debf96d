Profile: TelesanteProvenance
Parent: Provenance
Id: telesante-provenance
Title: "Traçabilité d'un acte de télémédecine (Provenance, CSP R6316-4)"
Description: """
What the Code de la santé publique (art. R6316-4) requires to be written into the patient's record for a
telemedicine act, in one Provenance: 1° the report (target[report], a DocumentReference); 2° the act and
the acts and prescriptions made (target[act], the Encounter, and target[order]); 3° the professionals who
took part (agent, with their role); 4° the date and time of the act (occurredPeriod); 5° the technical
incidents (extension technicalIncident).
"""
* obeys telesante-provenance-1
* target 1..* MS
* target.type 1..1 MS
* target ^slicing.discriminator[0].type = #value
* target ^slicing.discriminator[0].path = "type"
* target ^slicing.rules = #open
* target ^slicing.description = "By the type of the target resource"
* target contains report 0..* MS and act 1..1 MS and order 0..* MS
* target[report] ^short = "1° le compte rendu (absent : l’API avertit ACT_REPORT_MISSING ; un amendement cite l’ancien et le nouveau)"
* target[report].type = "DocumentReference" (exactly)
* target[act] ^short = "2° l'acte (la rencontre de télémédecine)"
* target[act].type = "Encounter" (exactly)
* target[order] ^short = "2° les actes et prescriptions effectués"
* target[order].type from $ts-order-type-vs (required)
* occurred[x] 1..1 MS
* occurred[x] only Period
* occurredPeriod.start 1..1 MS
* occurredPeriod ^short = "4° la date et l'heure de l'acte"
* recorded MS
* agent MS
* agent ^short = "3° les professionnels de santé qui ont participé"
* agent.type 1..1 MS
* agent.type from $ts-provenance-agent-type-vs (required)
* agent.who MS
* agent.who only Reference(Practitioner or PractitionerRole or Organization or Device or RelatedPerson or Patient)
* extension contains TelesanteTechnicalIncident named technicalIncident 0..* MS
* extension[technicalIncident] ^short = "5° les incidents techniques survenus au cours de l'acte"

Invariant: telesante-provenance-1
Description: "R6316-4 3°: the record of an act names at least one health professional with their role in it (telesante-participant-role); a cancellation need not."
Expression: "activity.coding.where(code = 'CANCEL' or code = 'NULLIFY').exists() or agent.where(type.coding.where(system = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType' or system = 'https://telesante-fhir.fr/fhir/CodeSystem/telesante-participant-role').exists()).exists()"
Severity: #error
