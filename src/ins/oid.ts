export const INS_OIDS = {
  'INS-NIR': 'urn:oid:1.2.250.1.213.1.4.8',
  'INS-NIA': 'urn:oid:1.2.250.1.213.1.4.9',
  'INS-NIR-TEST': 'urn:oid:1.2.250.1.213.1.4.10',
  'INS-NIR-DEMO': 'urn:oid:1.2.250.1.213.1.4.11',
} as const;

export type InsKind = keyof typeof INS_OIDS;
export type InsOid = (typeof INS_OIDS)[InsKind];

// Callers copy the OID from HL7 v2 (bare dotted form) as often as from FHIR (urn:oid: form); both name
// the same assigning authority, so both are accepted and the FHIR form is what we hand back.
export function insKindOfOid(oid: string): InsKind | undefined {
  switch (oid) {
    case 'urn:oid:1.2.250.1.213.1.4.8':
    case '1.2.250.1.213.1.4.8':
      return 'INS-NIR';
    case 'urn:oid:1.2.250.1.213.1.4.9':
    case '1.2.250.1.213.1.4.9':
      return 'INS-NIA';
    case 'urn:oid:1.2.250.1.213.1.4.10':
    case '1.2.250.1.213.1.4.10':
      return 'INS-NIR-TEST';
    case 'urn:oid:1.2.250.1.213.1.4.11':
    case '1.2.250.1.213.1.4.11':
      return 'INS-NIR-DEMO';
    default:
      return undefined;
  }
}

export function isTestKind(kind: InsKind): boolean {
  return kind === 'INS-NIR-TEST' || kind === 'INS-NIR-DEMO';
}
