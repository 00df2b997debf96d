Profile: TelesanteReport
Parent: DocumentReference
Id: telesante-report
Title: "Compte rendu d'acte de télémédecine (DocumentReference)"
Description: "The report (compte rendu) of a telemedicine act, LOINC 85208-7 as in the CI-SIS TLM-CR, linked to its act."
* obeys telesante-report-1
* status MS
* type 1..1 MS
* type = $loinc#85208-7
* subject 1..1 MS
* subject only Reference(Patient)
* date 1..1 MS
* author 1..* MS
* author only Reference(Practitioner or PractitionerRole or Organization)
* content 1..* MS
* content.attachment.contentType 1..1 MS
* context 1..1 MS
* context.encounter 1..1 MS
* context.encounter only Reference(Encounter)
* context.period MS

Invariant: telesante-report-1
Description: "Every content attachment carries the document, inline (data) or by address (url)."
Expression: "content.all(attachment.data.exists() or attachment.url.exists())"
Severity: #error
