Profile: TelesanteHealthcareService
Parent: $fr-core-healthcare-service
Id: telesante-healthcareservice
Title: "Offre de télésanté (HealthcareService aligné ROR)"
Description: """
A telehealth offer, aligned with the ROR's ror-healthcareservice (ans.fhir.fr.ror 0.6.0): every element
the ROR requires, with the ROR bindings. Telehealth is coded as the ROR codes it: characteristic
receptionModality (JDV_J226 / TRE_R338, 04 = téléconsultation), careMode (JDV_J19 / TRE_R213) and
specificAct (JDV_J16 / TRE_R210). name and providedBy are 1..1 as in ROR 0.7.0.
"""
* meta 1..1
* meta.lastUpdated 1..1 MS
* identifier 1..1 MS
* identifier ^short = "identifiantOffre: nationally unique and persistent, the natural key"
* identifier.system 1..1 MS
* identifier.value 1..1 MS
* name 1..1 MS
* providedBy 1..1 MS
* type 1..1 MS
* type from $JDV-J20 (required)
* telecom.value 1..1 MS
* telecom.extension contains
    RORTelecomCommunicationChannel named communicationChannel 1..1 MS and
    RORTelecomConfidentialityLevel named confidentialityLevel 1..1 MS

// ROR slices characteristic by coding.system (and by ror-act-type between specificAct and outsideOfficeAct,
// which both use TRE_R210; we emit only specificAct, see README).
* characteristic 1..* MS
* characteristic ^slicing.discriminator[0].type = #value
* characteristic ^slicing.discriminator[0].path = "coding.system"
* characteristic ^slicing.rules = #open
* characteristic ^slicing.description = "Slices by code system, as the ROR does"
* characteristic contains careMode 1..1 MS and receptionModality 0..* MS and specificAct 0..* MS
* characteristic[careMode] ^short = "modePriseEnCharge (JDV_J19 / TRE_R213)"
* characteristic[careMode].coding 1..1 MS
* characteristic[careMode].coding.system 1..1
* characteristic[careMode].coding.system = $TRE-R213 (exactly)
* characteristic[careMode].coding.code 1..1
* characteristic[careMode] from $JDV-J19 (required)
* characteristic[receptionModality] ^short = "modaliteAccueil (JDV_J226 / TRE_R338): 04 téléconsultation, 10/11 téléexpertise, 14 télésoin"
* characteristic[receptionModality].coding 1..1 MS
* characteristic[receptionModality].coding.system 1..1
* characteristic[receptionModality].coding.system = $TRE-R338 (exactly)
* characteristic[receptionModality].coding.code 1..1
* characteristic[receptionModality] from $JDV-J226 (required)
* characteristic[specificAct] ^short = "acteSpecifique (JDV_J16 / TRE_R210), with ror-act-type = specificAct"
* characteristic[specificAct].coding 1..1 MS
* characteristic[specificAct].coding.system 1..1
* characteristic[specificAct].coding.system = $TRE-R210 (exactly)
* characteristic[specificAct].coding.code 1..1
* characteristic[specificAct] from $JDV-J16 (required)
* characteristic[specificAct].extension contains RORActType named actType 1..1 MS
* characteristic[specificAct].extension[actType].valueCode = #specificAct

* specialty 1..* MS
* specialty ^slicing.discriminator[0].type = #value
* specialty ^slicing.discriminator[0].path = "coding.system"
* specialty ^slicing.rules = #open
* specialty contains operationalActivity 1..1 MS
* specialty[operationalActivity] ^short = "activiteOperationnelle (TRE_R211; JDV_J17 is not available here, see README)"
* specialty[operationalActivity].coding 1..1 MS
* specialty[operationalActivity].coding.system 1..1
* specialty[operationalActivity].coding.system = $TRE-R211 (exactly)
* specialty[operationalActivity].coding.code 1..1
* specialty[operationalActivity] from $ts-activite-operationnelle-vs (required)

* extension contains
    RORHealthcareServiceSensitiveUnit named sensitiveUnit 1..1 MS and
    RORHealthcareServicePatientType named patientType 1..1 MS and
    RORMetaCreationDate named creationDate 1..1 MS
