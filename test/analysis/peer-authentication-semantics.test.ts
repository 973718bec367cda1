import { KubeObject } from '../../lib/analysis/manifest';
import { parsePeerAuthentication, PeerAuthenticationLayer } from '../../lib/analysis/peer-authentication-semantics';
import { Workload } from '../../lib/analysis/workload';

const PAY: Workload = { id: 'pay', namespace: 'pay', labels: { app: 'payment' }, serviceAccountName: 'payment', ports: [] };
const pa = (namespace: string, spec: Record<string, unknown>, name = 'default'): KubeObject =>
  ({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name, namespace }, spec });
const mtls = (...p: KubeObject[]) => new PeerAuthenticationLayer(p.map(parsePeerAuthentication), 'istio-system');

describe('PeerAuthentication precedence', () => {
  test("Istio's default with no policy is PERMISSIVE", () => {
    expect(mtls().decide(PAY, 80)).toEqual({ mode: 'PERMISSIVE' });
  });

  test('mesh-wide applies everywhere; namespace-wide overrides it; workload overrides both', () => {
    const mesh = pa('istio-system', { mtls: { mode: 'STRICT' } });
    expect(mtls(mesh).decide(PAY, 80)).toEqual({ mode: 'STRICT', policy: 'PeerAuthentication/istio-system/default' });
    const ns = pa('pay', { mtls: { mode: 'PERMISSIVE' } });
    expect(mtls(mesh, ns).decide(PAY, 80).mode).toBe('PERMISSIVE');
    const wl = pa('pay', { selector: { matchLabels: { app: 'payment' } }, mtls: { mode: 'STRICT' } }, 'payment');
    expect(mtls(mesh, ns, wl).decide(PAY, 80)).toEqual({ mode: 'STRICT', policy: 'PeerAuthentication/pay/payment' });
  });

  test('UNSET inherits from the next level up', () => {
    const wl = pa('pay', { selector: { matchLabels: { app: 'payment' } }, mtls: { mode: 'UNSET' } }, 'payment');
    expect(mtls(pa('pay', { mtls: { mode: 'DISABLE' } }), wl).decide(PAY, 80).mode).toBe('DISABLE');
  });

  test('portLevelMtls applies with a selector, to its port only', () => {
    const wl = pa('pay', { selector: { matchLabels: { app: 'payment' } }, mtls: { mode: 'STRICT' }, portLevelMtls: { 8080: { mode: 'PERMISSIVE' } } }, 'payment');
    const layer = mtls(wl);
    expect(layer.decide(PAY, 8080).mode).toBe('PERMISSIVE');
    expect(layer.decide(PAY, 8443).mode).toBe('STRICT');
  });

  test('a selector that does not match leaves the namespace mode', () => {
    const wl = pa('pay', { selector: { matchLabels: { app: 'other' } }, mtls: { mode: 'DISABLE' } }, 'other');
    expect(mtls(pa('pay', { mtls: { mode: 'STRICT' } }), wl).decide(PAY, 80).mode).toBe('STRICT');
  });
});
