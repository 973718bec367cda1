import { ServicePort } from '../lib';
import { find, has, newChart, NOT_QUARANTINED, synth } from './support/manifests';
import { expectValidManifests } from './support/schema-validator';

const NET = {
  controlPlaneCidrs: ['10.0.96.0/28', '10.0.96.16/28'],
  loadBalancerCidrs: ['10.0.97.0/26', '10.0.97.64/26'],
  apiServerServiceCidr: '172.20.0.1/32',
  scraperCidrs: ['10.0.98.0/28'],
};

function declare(platformNetwork = NET) {
  const chart = newChart({ platformNetwork });
  const web = chart.addService('web', { ports: [ServicePort.http(8080)] });
  const api = chart.addService('api', { ports: [ServicePort.http(9000)] });
  web.allowFromIngressGateway();
  api.allowFrom(web);
  return { chart, web, api };
}

describe('platform namespaces (design.md section 7)', () => {
  test('istiod: 15012 from every pod, 15017 from the control plane, 15014 from scrapers; egress to the API server and DNS only', () => {
    const np = find(synth(declare().chart), 'NetworkPolicy', 'istio-system', 'zero-trust.istiod');
    expect(np.spec.podSelector).toEqual({ matchLabels: { app: 'istiod', istio: 'pilot' }, matchExpressions: NOT_QUARANTINED });
    expect(np.spec.ingress).toEqual([
      { from: [{ namespaceSelector: {}, podSelector: { matchExpressions: NOT_QUARANTINED } }], ports: [{ port: 15012, protocol: 'TCP' }] },
      { from: [{ ipBlock: { cidr: '10.0.96.0/28' } }, { ipBlock: { cidr: '10.0.96.16/28' } }], ports: [{ port: 15017, protocol: 'TCP' }] },
      { from: [{ ipBlock: { cidr: '10.0.98.0/28' } }], ports: [{ port: 15014, protocol: 'TCP' }] },
    ]);
    expect(np.spec.egress[0]).toEqual({ to: [{ ipBlock: { cidr: '172.20.0.1/32' } }, { ipBlock: { cidr: '10.0.96.0/28' } }, { ipBlock: { cidr: '10.0.96.16/28' } }], ports: [{ port: 443, protocol: 'TCP' }] });
    expect(np.spec.egress[1].ports).toEqual([{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }]);
    expect(JSON.stringify(np)).not.toContain('15010');
  });

  test('the ingress gateway: its ports and 15021 from the load balancer subnets; egress only to the services that admit it, istiod and DNS', () => {
    const np = find(synth(declare().chart), 'NetworkPolicy', 'istio-ingress', 'zero-trust.ingress-gateway');
    expect(np.spec.ingress).toEqual([{
      from: NET.loadBalancerCidrs.map(cidr => ({ ipBlock: { cidr } })),
      ports: [80, 443, 15021].map(port => ({ port, protocol: 'TCP' })),
    }]);
    expect(np.spec.egress[0]).toEqual({
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'web' }, matchExpressions: NOT_QUARANTINED } }],
      ports: [{ port: 8080, protocol: 'TCP' }],
    });
    expect(np.spec.egress).toHaveLength(3);
  });

  test('both platform namespaces are default-deny; kube-system is untouched unless CoreDNS policies are asked for', () => {
    const objects = synth(declare().chart);
    expect(find(objects, 'NetworkPolicy', 'istio-system', 'zero-trust.default-deny').spec.policyTypes).toEqual(['Egress', 'Ingress']);
    expect(find(objects, 'NetworkPolicy', 'istio-ingress', 'zero-trust.default-deny').spec.policyTypes).toEqual(['Egress', 'Ingress']);
    expect(objects.some(o => o.metadata.namespace === 'kube-system')).toBe(false);
    const withDns = synth(declare({ ...NET, coreDns: { resolverCidr: '10.0.0.2/32' } } as typeof NET).chart);
    const coredns = find(withDns, 'NetworkPolicy', 'kube-system', 'zero-trust.coredns');
    expect(coredns.spec.egress[0]).toEqual({ to: [{ ipBlock: { cidr: '10.0.0.2/32' } }], ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] });
    expect(has(withDns, 'NetworkPolicy', 'kube-system', 'zero-trust.default-deny')).toBe(false);
  });

  test('without platformNetwork no platform namespace gets a NetworkPolicy', () => {
    const chart = newChart();
    chart.addService('web', { ports: [ServicePort.http(8080)] }).allowFromIngressGateway();
    expect(synth(chart).filter(o => o.kind === 'NetworkPolicy' && ['istio-system', 'istio-ingress'].includes(o.metadata.namespace ?? ''))).toEqual([]);
  });

  test('the self-check still passes: DNS and istiod stay reachable and the gateway reaches exactly its backends', () => {
    const { chart } = declare();
    synth(chart);
    expect(chart.selfCheckFindings).toEqual([]);
  });

  test('everything validates strictly', () => {
    expectValidManifests(synth(declare({ ...NET, coreDns: { resolverCidr: '10.0.0.2/32' } } as typeof NET).chart));
  });
});

describe('external endpoints', () => {
  function withSts() {
    const chart = newChart();
    const sts = chart.addExternalEndpoint('aws-sts', { hosts: ['sts.eu-west-1.amazonaws.com'], cidrs: ['10.0.99.0/27', '10.0.99.32/27'] });
    const s3 = chart.addExternalEndpoint('aws-s3', { hosts: ['s3.eu-west-1.amazonaws.com', '*.s3.eu-west-1.amazonaws.com'], cidrs: ['10.0.99.0/27'] });
    const analytics = chart.addService('analytics', { ports: [ServicePort.http(8080)] });
    const other = chart.addService('other', {});
    analytics.allowEgressTo(sts);
    analytics.allowEgressTo(s3);
    analytics.annotateServiceAccount('eks.amazonaws.com/role-arn', 'arn:aws:iam::111122223333:role/analytics');
    return { chart, analytics, other };
  }

  test('open egress on 443 to the endpoint CIDRs only, for that service only', () => {
    const objects = synth(withSts().chart);
    expect(find(objects, 'NetworkPolicy', 'shop', 'analytics').spec.egress).toEqual([
      { to: [{ ipBlock: { cidr: '10.0.99.0/27' } }, { ipBlock: { cidr: '10.0.99.32/27' } }], ports: [{ port: 443, protocol: 'TCP' }] },
    ]);
    expect(has(objects, 'NetworkPolicy', 'shop', 'other')).toBe(false);
  });

  test('register the hosts in a namespace-local ServiceEntry and the namespace Sidecar', () => {
    const objects = synth(withSts().chart);
    expect(find(objects, 'ServiceEntry', 'shop', 'aws-s3').spec).toEqual({
      hosts: ['*.s3.eu-west-1.amazonaws.com', 's3.eu-west-1.amazonaws.com'],
      ports: [{ number: 443, name: 'tls-443', protocol: 'TLS' }],
      location: 'MESH_EXTERNAL',
      resolution: 'DNS',
      exportTo: ['.'],
    });
    expect(find(objects, 'Sidecar', 'shop', 'default').spec.egress[0].hosts).toEqual([
      './*.s3.eu-west-1.amazonaws.com', './s3.eu-west-1.amazonaws.com', './sts.eu-west-1.amazonaws.com', 'istio-system/*',
    ]);
    expectValidManifests(objects);
  });

  test('service account annotations are rendered', () => {
    const sa = find(synth(withSts().chart), 'ServiceAccount', 'shop', 'analytics');
    expect(sa.metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/analytics' });
  });

  test('bad endpoints are rejected with the field and a fix', () => {
    const chart = newChart();
    expect(() => chart.addExternalEndpoint('AWS', { hosts: ['x.com'], cidrs: ['10.0.0.0/24'] })).toThrow(/external endpoint 'AWS': name must be a lowercase RFC 1123 label/);
    expect(() => chart.addExternalEndpoint('a', { hosts: [], cidrs: ['10.0.0.0/24'] })).toThrow(/hosts must not be empty/);
    expect(() => chart.addExternalEndpoint('a', { hosts: ['not a host'], cidrs: ['10.0.0.0/24'] })).toThrow(/hosts must be a DNS name/);
    expect(() => chart.addExternalEndpoint('a', { hosts: ['x.com'], cidrs: ['10.0.0.0'] })).toThrow(/cidrs must be a CIDR \(got '10.0.0.0'\)/);
    expect(() => chart.addExternalEndpoint('a', { hosts: ['x.com'], cidrs: ['0.0.0.0/0'] })).toThrow(/opens egress to every address/);
    expect(() => chart.addExternalEndpoint('a', { hosts: ['x.com'], cidrs: ['10.0.0.0/24'], port: 0 })).toThrow(/port must be an integer from 1 to 65535/);
    chart.addExternalEndpoint('a', { hosts: ['x.com'], cidrs: ['10.0.0.0/24'] });
    expect(() => chart.addExternalEndpoint('a', { hosts: ['y.com'], cidrs: ['10.0.1.0/24'] })).toThrow(/is already declared/);
  });

  test('an endpoint of another chart is rejected', () => {
    const foreign = newChart({}, 'other').addExternalEndpoint('aws-sts', { hosts: ['sts.x.amazonaws.com'], cidrs: ['10.0.0.0/24'] });
    const svc = newChart().addService('a', {});
    expect(() => svc.allowEgressTo(foreign)).toThrow(/service 'a': allowEgressTo endpoint .*is not an external endpoint declared in ZeroTrustPolicyChart 'shop'/);
  });
});
