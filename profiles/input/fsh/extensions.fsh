Extension: TelesanteTechnicalIncident
Id: telesante-technical-incident
Title: "Incident technique de télémédecine"
Description: "A technical incident that occurred during a telemedicine act (CSP art. R6316-4, 5°): what failed, when, what it did to the act."
* ^context[0].type = #element
* ^context[0].expression = "Encounter"
* ^context[1].type = #element
* ^context[1].expression = "Provenance"
* extension contains type 1..1 MS and time 1..1 MS and description 0..1 MS and effect 1..1 MS
* extension[type] ^short = "Type d'incident"
* extension[type].value[x] 1..1
* extension[type].value[x] only CodeableConcept
* extension[type].value[x] from $ts-incident-type-vs (required)
* extension[time] ^short = "Date et heure de l'incident"
* extension[time].value[x] 1..1
* extension[time].value[x] only dateTime
* extension[description] ^short = "Description libre"
* extension[description].value[x] 1..1
* extension[description].value[x] only string
* extension[effect] ^short = "Conséquence sur l'acte"
* extension[effect].value[x] 1..1
* extension[effect].value[x] only CodeableConcept
* extension[effect].value[x] from $ts-incident-effect-vs (required)

Extension: TelesanteModality
Id: telesante-modality
Title: "Modalité de réalisation de l'acte"
Description: "How the act was carried out at a distance: video, phone, or asynchronous (store and forward). No national code system has these."
* ^context[0].type = #element
* ^context[0].expression = "Encounter"
* value[x] 1..1
* value[x] only Coding
* value[x] from $ts-modality-vs (required)

Extension: TelesanteConsentMethod
Id: telesante-consent-method
Title: "Mode de recueil du consentement"
Description: "How the patient's consent (or refusal) was collected: oral, written, electronic. R4 Consent has no element for it, and source[x] would claim that a document exists when consent was oral (formalising it is not mandatory, CSP R6316-2)."
* ^context[0].type = #element
* ^context[0].expression = "Consent"
* value[x] 1..1
* value[x] only Coding
* value[x] from $ts-consent-method-vs (required)

Extension: TelesanteOffer
Id: telesante-offer
Title: "Offre de télésanté utilisée"
Description: "The telehealth offer (ROR-aligned HealthcareService) through which the act was carried out, named by its identifiantOffre: a logical reference, since the offer may live in another directory than the act."
* ^context[0].type = #element
* ^context[0].expression = "Encounter"
* value[x] 1..1
* value[x] only Reference(HealthcareService)
* valueReference.identifier 1..1
* valueReference.identifier.system 1..1
* valueReference.identifier.system = "https://telesante-fhir.fr/fhir/sid/offre" (exactly)
* valueReference.identifier.value 1..1

Extension: TelesanteBillingCode
Id: telesante-billing-code
Title: "Code de facturation de l'acte"
Description: "The billing code of the act (NGAP letter key: TCG, TC, TE1, TE2, TLS…), when the source system sends one. An extension rather than a second coding of Encounter.type: it says how the act is billed, not what it is."
* ^context[0].type = #element
* ^context[0].expression = "Encounter"
* value[x] 1..1
* value[x] only Coding
* value[x] from $ts-billing-act-vs (required)
