Profile: TelesanteEncounter
Parent: $fr-core-encounter
Id: telesante-encounter
Title: "Acte de télémédecine (Encounter)"
Description: """
A telemedicine or telecare act: a virtual encounter (class VR) whose type is the national code of the act
(TRE_R210 acte spécifique, TRE_R213 27 for régulation médicale), with the role of every participant and
the technical incidents that occurred (CSP art. R6316-4).
"""
* class = $v3-ActCode#VR
* type 1..1 MS
* type from $ts-act-type-vs (required)
* type ^short = "Type d'acte de télésanté (code national)"
* subject 1..1 MS
* period.start 1..1 MS
* participant 1..* MS
* participant.type 1..1 MS
* participant.type from $ts-participant-role-vs (required)
* participant.individual 1..1 MS
* extension contains
    TelesanteModality named modality 0..1 MS and
    TelesanteBillingCode named billingCode 0..1 MS and
    TelesanteOffer named offer 0..1 MS and
    TelesanteTechnicalIncident named technicalIncident 0..* MS
