Profile: TelesanteConsent
Parent: Consent
Id: telesante-consent
Title: "Consentement du patient à l'acte de télémédecine (Consent)"
Description: """
The patient's free and informed consent to a telemedicine act (CSP art. R6316-2), or their refusal
(provision.type = deny: an in-person path must then be offered). Formalising it is not mandatory, so the
source document is optional.
"""
* status MS
* scope = $consentscope#treatment
* category 1..1 MS
* category = $loinc#59284-0
* patient 1..1 MS
* patient only Reference(Patient)
* dateTime 1..1 MS
* performer MS
* policyRule 1..1 MS
* policyRule = $v3-ActCode#OPTIN
* provision 1..1 MS
* provision.type 1..1 MS
* provision.data MS
* provision.data ^short = "The telemedicine act (Encounter) the consent is about"
* extension contains TelesanteConsentMethod named method 0..1 MS
