import type { FastifyPluginAsync } from 'fastify';
import { asStored } from '../fhir/index.ts';
import type { Validator } from '../fhir/validation/index.ts';
import { checkIns } from '../ins/index.ts';
import { toFrCorePatient } from '../mapping/index.ts';
import type { PatientInput } from '../mapping/index.ts';
import { insCheckRequestSchema, insCheckResponseSchema, patientRequestSchema } from '../model/ins.ts';
import type { InsCheckRequest } from '../model/ins.ts';

export interface InsRoutesOptions {
  readonly allowTestIdentities: boolean;
  readonly validator: Validator;
  readonly clock: () => Date;
  /** BODY_LIMIT_BYTES: an identity needs far less, so these routes take at most 1 MB. */
  readonly bodyLimit: number;
}

export const insRoutes: FastifyPluginAsync<InsRoutesOptions> = async (app, { allowTestIdentities, validator, clock, bodyLimit }) => {
  app.post<{ Body: InsCheckRequest }>(
    '/v1/ins/check',
    {
      schema: {
        tags: ['ins'],
        summary: "Vérifie un INS (NIR ou NIA) : structure, clé, OID et cohérence avec les traits d'identité",
        description:
          'Répond 200 avec le verdict, même quand l’INS est invalide : `valid` est faux et `issues` nomme chaque anomalie ' +
          '(code stable, gravité, message, champ). Un corps mal formé est une erreur 400 (OperationOutcome).',
        body: insCheckRequestSchema,
        response: { 200: insCheckResponseSchema },
      },
      config: { access: 'ins:check' },
      bodyLimit: Math.min(bodyLimit, 1024 * 1024),
    },
    async (request) => {
      const { ins, oid, traits } = request.body;
      const checkTraits = traits ? { sex: traits.sex, birthDate: traits.birthDate, birthplaceCode: traits.birthplaceCode } : undefined;
      return checkIns({ ins, oid, traits: checkTraits }, { allowTestIdentities });
    },
  );

  app.post<{ Body: PatientInput }>(
    '/v1/ins/patient',
    {
      schema: {
        tags: ['ins'],
        summary: "Le Patient FR Core que le service écrirait pour cette identité (rien n'est écrit)",
        description:
          "Identité qualifiée (QUAL) et INS valide : fr-core-patient-ins avec l'INS et ses traits. Sinon fr-core-patient avec l'IPP seul, " +
          'et `insExclusionReason` dit pourquoi l’INS a été écarté. Le Patient passe la porte de validation (FHIR R4, FR Core) : une non-conformité est une 422.',
        body: patientRequestSchema,
      },
      config: { access: 'ins:check' },
      bodyLimit: Math.min(bodyLimit, 1024 * 1024),
    },
    async (request) => {
      const mapping = toFrCorePatient(request.body, { allowTestIdentities });
      validator.assertValid(asStored(mapping.patient, clock()));
      return {
        insIncluded: mapping.insIncluded,
        ...(mapping.insExclusionReason !== undefined ? { insExclusionReason: mapping.insExclusionReason, insExclusionCode: mapping.insExclusionCode } : {}),
        insIssues: mapping.insCheck?.issues ?? [],
        patient: mapping.patient,
      };
    },
  );
};
