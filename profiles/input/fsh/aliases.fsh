// HL7 and LOINC
Alias: $v3-ActCode = http://terminology.hl7.org/CodeSystem/v3-ActCode
Alias: $v3-ParticipationType = http://terminology.hl7.org/CodeSystem/v3-ParticipationType
Alias: $consentscope = http://terminology.hl7.org/CodeSystem/consentscope
Alias: $loinc = http://loinc.org

// FR Core 2.2.0-ballot-2
Alias: $fr-core-healthcare-service = https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-healthcare-service
Alias: $fr-core-encounter = https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-encounter
Alias: $fr-core-patient = https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient
Alias: $fr-core-practitioner = https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-practitioner
Alias: $fr-core-practitioner-role = https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-practitioner-role
Alias: $fr-core-organization = https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-organization

// National terminologies (ANS, NOS): code systems (TRE) and value sets (JDV), shipped in mappings/
Alias: $TRE-R210 = https://mos.esante.gouv.fr/NOS/TRE_R210-ActeSpecifique/FHIR/TRE-R210-ActeSpecifique
Alias: $TRE-R211 = https://mos.esante.gouv.fr/NOS/TRE_R211-ActiviteOperationnelle/FHIR/TRE-R211-ActiviteOperationnelle
Alias: $TRE-R213 = https://mos.esante.gouv.fr/NOS/TRE_R213-ModePriseEnCharge/FHIR/TRE-R213-ModePriseEnCharge
Alias: $TRE-R227 = https://mos.esante.gouv.fr/NOS/TRE_R227-ChampActivite/FHIR/TRE-R227-ChampActivite
Alias: $TRE-R338 = https://mos.esante.gouv.fr/NOS/TRE_R338-ModaliteAccueil/FHIR/TRE-R338-ModaliteAccueil
Alias: $JDV-J16 = https://mos.esante.gouv.fr/NOS/JDV_J16-ActeSpecifique-ROR/FHIR/JDV-J16-ActeSpecifique-ROR
Alias: $JDV-J19 = https://mos.esante.gouv.fr/NOS/JDV_J19-ModePriseEnCharge-ROR/FHIR/JDV-J19-ModePriseEnCharge-ROR
Alias: $JDV-J20 = https://mos.esante.gouv.fr/NOS/JDV_J20-ChampActivite-ROR/FHIR/JDV-J20-ChampActivite-ROR
Alias: $JDV-J29 = https://mos.esante.gouv.fr/NOS/JDV_J29-PublicPrisEnCharge-ROR/FHIR/JDV-J29-PublicPrisEnCharge-ROR
Alias: $JDV-J226 = https://mos.esante.gouv.fr/NOS/JDV_J226-ModaliteAccueil-ROR/FHIR/JDV-J226-ModaliteAccueil-ROR
// Not shipped (their content is not available here): bindings to them are reported as "not checked".
Alias: $JDV-J222 = https://mos.esante.gouv.fr/NOS/JDV_J222-NiveauConfidentialite-ROR/FHIR/JDV-J222-NiveauConfidentialite-ROR
Alias: $JDV-J225 = https://mos.esante.gouv.fr/NOS/JDV_J225-CanalCommunication-ROR/FHIR/JDV-J225-CanalCommunication-ROR

// ROR (ans.fhir.fr.ror 0.6.0)
Alias: $ror = https://interop.esante.gouv.fr/ig/fhir/ror
Alias: $ror-act-type-vs = https://interop.esante.gouv.fr/ig/fhir/ror/ValueSet/act-type-ror-valueset

// Ours (terminology in mappings/)
Alias: $ts-incident-type-vs = https://telesante-fhir.fr/fhir/ValueSet/telesante-incident-type
Alias: $ts-incident-effect-vs = https://telesante-fhir.fr/fhir/ValueSet/telesante-incident-effect
Alias: $ts-participant-role-vs = https://telesante-fhir.fr/fhir/ValueSet/telesante-participant-role
Alias: $ts-modality-vs = https://telesante-fhir.fr/fhir/ValueSet/telesante-modality
Alias: $ts-act-type-vs = https://telesante-fhir.fr/fhir/ValueSet/telesante-act-type
Alias: $ts-activite-operationnelle-vs = https://telesante-fhir.fr/fhir/ValueSet/telesante-activite-operationnelle
Alias: $ts-order-type-vs = https://telesante-fhir.fr/fhir/ValueSet/telesante-order-type
Alias: $ts-provenance-agent-type-vs = https://telesante-fhir.fr/fhir/ValueSet/telesante-provenance-agent-type
Alias: $ts-consent-method-vs = https://telesante-fhir.fr/fhir/ValueSet/telesante-consent-method
Alias: $ts-billing-act-vs = https://telesante-fhir.fr/fhir/ValueSet/telesante-billing-act
