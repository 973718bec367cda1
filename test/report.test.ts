import { Testing } from 'cdk8s';
import { ShopPolicies } from '../examples/shop/shop';
import { ServicePort, ZeroTrustPolicyChart, ZeroTrustReport } from '../lib';

describe('posture report of the seed scenario', () => {
  const report = ZeroTrustReport.fromChart(new ShopPolicies(Testing.app(), 'shop'));

  test('matches the reviewed snapshot', () => {
    expect(report.toMarkdown('zero-trust-report.svg')).toMatchSnapshot();
  });

  test('lists exactly the declared flows as allowed, with L7 restrictions and STRICT mTLS', () => {
    const allowed = report.flows.filter(f => f.allowed).map(f => `${f.source} -> ${f.destination}:${f.port} ${f.mesh.requests.join('|')} ${f.mtlsMode}`);
    expect(allowed).toEqual([
      'platform/ingress-gateway -> shop/api-gateway:8080 * STRICT',
      'shop/api-gateway -> shop/user:8080 * STRICT',
      'shop/order -> payments/payment:8443 methods=POST paths=/charge STRICT',
    ]);
    expect(report.flows.filter(f => !f.allowed)).toEqual([]);
  });

  test('says what is closed: services nobody may call', () => {
    const md = report.toMarkdown();
    expect(md).toContain('- **analytics/analytics** exposes 8080 but nobody may call it.');
    expect(md).toContain('- shop/order may call **payments/payment**:8443 only with methods=POST paths=/charge; every other request is denied.');
  });

  test('with its platform network the example meets every control Kubernetes objects can show', () => {
    expect(report.findings.map(f => `${f.control} ${f.subject}`)).toEqual([]);
    expect(report.toMarkdown()).toContain('None: every control that Kubernetes objects can show is met.');
  });

  test('without the platform network the chart leaves the gateway namespace open, and the report says so', () => {
    const bare = new ZeroTrustPolicyChart(Testing.app(), 'bare', { namespace: 'shop' });
    bare.addService('web', { ports: [ServicePort.http(8080)] }).allowFromIngressGateway();
    expect(ZeroTrustReport.fromChart(bare).findings.map(f => `${f.control} ${f.subject}`)).toEqual([
      'NET-01 namespace istio-ingress',
      'NET-01 workload platform/ingress-gateway',
    ]);
  });

  test('the Mermaid graph has one edge per allowed pair, labelled with ports and requests', () => {
    const mermaid = report.toMermaid();
    expect(mermaid.split('\n').filter(l => l.includes('-->'))).toHaveLength(3);
    expect(mermaid).toContain('|"8443 POST /charge"|');
  });

  test('the SVG is rendered offline by Graphviz and names every service', async () => {
    const svg = await report.renderSvg();
    expect(svg).toMatch(/<svg[\s\S]*<\/svg>/);
    // Graphviz writes '-' as a character reference in text.
    const text = svg.replace(/&#45;/g, '-');
    for (const name of ['api-gateway', 'user', 'order', 'payment', 'analytics', '8443 POST /charge']) {
      expect(text).toContain(`>${name}<`);
    }
  });
});
