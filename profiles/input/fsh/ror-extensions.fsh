// The ROR extensions that RORHealthcareService (ans.fhir.fr.ror 0.6.0) requires, reconstructed from the
// ROR FSH sources (see ../shared/ROR.md) because the ROR package is not available offline. They keep the
// ROR canonical URLs so that our instances carry exactly what ROR consumers expect; the definitions are
// ours and are replaced by the ANS ones the day the ROR package is loaded instead (same ids, PUT by id).

RuleSet: RorReconstruction
* ^publisher = "telesante-fhir (reconstruction of the ANS ROR 0.6.0 definition)"
* ^status = #draft

Extension: RORHealthcareServiceSensitiveUnit
Id: ror-healthcareservice-sensitive-unit
Title: "ROR HealthcareService Sensitive Unit"
Description: "uniteSensible: the whole description of the offer is confidential (ROR 0.6.0, reconstructed)."
* insert RorReconstruction
* ^url = "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-healthcareservice-sensitive-unit"
* ^context[0].type = #element
* ^context[0].expression = "HealthcareService"
* value[x] 1..1
* value[x] only boolean

Extension: RORHealthcareServicePatientType
Id: ror-healthcareservice-patient-type
Title: "ROR HealthcareService Patient Type"
Description: "publicPrisEnCharge: the patients the offer takes care of and their age range (ROR 0.6.0, reconstructed)."
* insert RorReconstruction
* ^url = "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-healthcareservice-patient-type"
* ^context[0].type = #element
* ^context[0].expression = "HealthcareService"
* extension contains supportedPatientInfo 0..* and ageRange 1..1
* extension[supportedPatientInfo].value[x] 1..1
* extension[supportedPatientInfo].value[x] only CodeableConcept
* extension[supportedPatientInfo].value[x] from $JDV-J29 (required)
* extension[ageRange].value[x] 1..1
* extension[ageRange].value[x] only Range
* extension[ageRange].valueRange.low 1..1
* extension[ageRange].valueRange.high 1..1

Extension: RORMetaCreationDate
Id: ror-meta-creation-date
Title: "ROR Meta Creation Date"
Description: "dateCreation: when the object was created in the ROR (ROR 0.6.0, reconstructed)."
* insert RorReconstruction
* ^url = "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-meta-creation-date"
* ^context[0].type = #element
* ^context[0].expression = "HealthcareService"
* ^context[1].type = #element
* ^context[1].expression = "Organization"
* ^context[2].type = #element
* ^context[2].expression = "Location"
* ^context[3].type = #element
* ^context[3].expression = "Practitioner"
* ^context[4].type = #element
* ^context[4].expression = "PractitionerRole"
* value[x] 1..1
* value[x] only dateTime

Extension: RORActType
Id: ror-act-type
Title: "ROR Act Type"
Description: "Type d'acte: tells a specific act from an act performed outside the office (ROR 0.6.0, reconstructed)."
* insert RorReconstruction
* ^url = "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-act-type"
* ^context[0].type = #element
* ^context[0].expression = "HealthcareService.characteristic"
* value[x] 1..1
* value[x] only code
* value[x] from $ror-act-type-vs (required)

Extension: RORTelecomCommunicationChannel
Id: ror-telecom-communication-channel
Title: "ROR Telecom Communication Channel"
Description: "canal: the channel of a telecom (ROR 0.6.0, reconstructed)."
* insert RorReconstruction
* ^url = "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-telecom-communication-channel"
* ^context[0].type = #element
* ^context[0].expression = "ContactPoint"
* value[x] 1..1
* value[x] only CodeableConcept
* value[x] from $JDV-J225 (required)

Extension: RORTelecomConfidentialityLevel
Id: ror-telecom-confidentiality-level
Title: "ROR Telecom Confidentiality Level"
Description: "niveauConfidentialite: who may see a telecom (ROR 0.6.0, reconstructed)."
* insert RorReconstruction
* ^url = "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-telecom-confidentiality-level"
* ^context[0].type = #element
* ^context[0].expression = "ContactPoint"
* value[x] 1..1
* value[x] only CodeableConcept
* value[x] from $JDV-J222 (required)
