import t from 'tap';
import {
  checkIns,
  IDENTITY_STATUSES,
  insExchangeDecision,
  isIdentityStatus,
  type ExchangeTraits,
  type IdentityStatus,
} from '../../../src/ins/index.ts';
import { withKey } from './generators.ts';

const INS = withKey('2841276451089');
const TRAITS: ExchangeTraits = {
  birthFamilyName: 'MARTIN',
  birthGivenNames: ['Claire', 'Anne'],
  birthDate: '1984-12-03',
  birthplaceCode: '76451',
};
const validCheck = checkIns({ ins: INS, traits: { sex: 'female', birthDate: TRAITS.birthDate, birthplaceCode: TRAITS.birthplaceCode } });

t.test('the four RNIV statuses', async (t) => {
  t.same(Object.keys(IDENTITY_STATUSES), ['PROV', 'RECUP', 'VALI', 'QUAL']);
  t.same(
    Object.values(IDENTITY_STATUSES).map((s) => [s.fromInsi, s.documentChecked]),
    [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ],
  );
  t.ok(isIdentityStatus('QUAL'));
  t.notOk(isIdentityStatus('VIDE'), 'a v2-0445 code is not an RNIV status');
  t.notOk(isIdentityStatus('toString'));
});

t.test('a qualified identity with a valid INS and its traits may share the INS', async (t) => {
  t.ok(validCheck.valid);
  const decision = insExchangeDecision({ identityStatus: 'QUAL', insCheck: validCheck, traits: TRAITS });
  t.same(decision, { allowed: true, kind: 'INS-NIR', ins: INS });
});

t.test('warnings do not stop the exchange', async (t) => {
  const merged = checkIns({ ins: INS, traits: { birthplaceCode: '76450' } });
  t.equal(merged.issues.length, 1);
  t.ok(insExchangeDecision({ identityStatus: 'QUAL', insCheck: merged, traits: { ...TRAITS, birthplaceCode: '76450' } }).allowed);
});

t.test('only QUAL may share the INS', async (t) => {
  const hints: Record<Exclude<IdentityStatus, 'QUAL'>, RegExp> = {
    PROV: /Identité provisoire.*qualifiée/,
    RECUP: /Identité récupérée.*pièce d'identité/,
    VALI: /Identité validée.*INSi/,
  };
  for (const [status, hint] of Object.entries(hints)) {
    const decision = insExchangeDecision({ identityStatus: status as IdentityStatus, insCheck: validCheck, traits: TRAITS });
    t.same(decision.allowed ? undefined : decision.code, 'IDENTITY_NOT_QUALIFIED', status);
    t.match(decision.allowed ? '' : decision.reason, hint, status);
  }
});

t.test('an invalid INS is not shared, and the reason carries the check messages', async (t) => {
  const wrongKey = checkIns({ ins: `${INS.slice(0, 13)}01` });
  const decision = insExchangeDecision({ identityStatus: 'QUAL', insCheck: wrongKey, traits: TRAITS });
  t.notOk(decision.allowed);
  if (decision.allowed) return;
  t.equal(decision.code, 'INS_INVALID');
  t.match(decision.reason, /^L'INS est invalide : La clé de l'INS est 01 mais le numéro donne/);

  const testIdentity = checkIns({ ins: INS, oid: 'urn:oid:1.2.250.1.213.1.4.10' });
  t.same(
    insExchangeDecision({ identityStatus: 'QUAL', insCheck: testIdentity, traits: TRAITS }),
    { allowed: false, code: 'INS_INVALID', reason: `L'INS est invalide : ${testIdentity.issues[0]?.message}` },
  );
  const allowedTest = checkIns({ ins: INS, oid: 'urn:oid:1.2.250.1.213.1.4.10' }, { allowTestIdentities: true });
  t.same(insExchangeDecision({ identityStatus: 'QUAL', insCheck: allowedTest, traits: TRAITS }), {
    allowed: true,
    kind: 'INS-NIR-TEST',
    ins: INS,
  });
});

t.test('no INS', async (t) => {
  const decision = insExchangeDecision({ identityStatus: 'QUAL', insCheck: undefined, traits: TRAITS });
  t.same(decision.allowed ? undefined : decision.code, 'INS_ABSENT');
  const empty = insExchangeDecision({ identityStatus: 'QUAL', insCheck: checkIns({ ins: ' ' }), traits: TRAITS });
  t.same(empty.allowed ? undefined : empty.code, 'INS_ABSENT');
});

t.test('the INS travels only with its traits', async (t) => {
  const cases: [Partial<ExchangeTraits>, RegExp][] = [
    [{ birthFamilyName: ' ' }, /nom de naissance/],
    [{ birthGivenNames: [] }, /prénoms de naissance/],
    [{ birthGivenNames: [''] }, /prénoms de naissance/],
    [{ birthDate: '' }, /date de naissance/],
    [{ birthplaceCode: undefined }, /lieu de naissance/],
    [{ birthplaceCode: '99999' }, /99999/],
  ];
  for (const [change, reason] of cases) {
    const decision = insExchangeDecision({ identityStatus: 'QUAL', insCheck: validCheck, traits: { ...TRAITS, ...change } });
    t.same(decision.allowed ? undefined : decision.code, 'TRAITS_INCOMPLETE', JSON.stringify(change));
    t.match(decision.allowed ? '' : decision.reason, reason);
  }
});
