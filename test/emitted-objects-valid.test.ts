import { Testing } from 'cdk8s';
import { ShopPolicies } from '../examples/shop/shop';
import { ServicePort } from '../lib';
import { newChart, synth } from './support/manifests';
import { expectValidManifests, validateManifest } from './support/schema-validator';

describe('every emitted object validates strictly (unknown fields rejected, CEL rules evaluated)', () => {
  test('the shop example', () => {
    const objects = Testing.synth(new ShopPolicies(Testing.app(), 'shop'));
    // 39 policy objects + the mesh access-log Telemetry + per service namespace (3) a ResourceQuota, a LimitRange and
    // ServiceAccount/default + the platform namespaces' (istio-system, istio-ingress) default deny and exact policy
    expect(objects.length).toBe(53);
    expectValidManifests(objects);
  });

  test('a declaration that uses every feature: gRPC, TCP, mapped ports, L7, shared accounts, moved platform, client-only', () => {
    const chart = newChart({
      trustDomain: 'prod.example.com',
      platform: { rootNamespace: 'mesh', quarantineLabel: 'security.example.com/quarantine', ingressGateway: { namespace: 'edge', ports: [8080, 8443] } },
    });
    const web = chart.addService('web', { ports: [ServicePort.http(80, { targetPort: 8080 })] });
    const api = chart.addService('api', { namespace: 'api', ports: [ServicePort.grpc(9090), ServicePort.http(8081)] });
    const db = chart.addService('db', { namespace: 'data', serviceAccountName: 'data', podLabels: { app: 'db', tier: 'data' }, ports: [ServicePort.tcp(5432)] });
    const cache = chart.addService('cache', { namespace: 'data', serviceAccountName: 'data', podLabels: { app: 'cache' }, ports: [ServicePort.tcp(6379)] });
    const job = chart.addService('nightly-job', { namespace: 'data' });
    web.allowFromIngressGateway({ methods: ['GET'], paths: ['/', '/static/{**}'] });
    api.allowFrom(web, { ports: [9090], paths: ['/shop.Catalog/*'] });
    api.allowFrom(web, { ports: [8081], methods: ['GET', 'HEAD'], paths: ['/users/{*}/orders'] });
    db.allowFrom(api);
    cache.allowFrom(api);
    db.allowFrom(job);
    expectValidManifests(synth(chart));
  });

  test('the validator is not a rubber stamp: a misspelt field in an emitted NetworkPolicy is rejected', () => {
    const chart = newChart();
    const a = chart.addService('a', {});
    chart.addService('b', { ports: [ServicePort.http(80)] }).allowFrom(a);
    const np = synth(chart).find(o => o.kind === 'NetworkPolicy' && o.metadata.name === 'b')!;
    const typo = JSON.parse(JSON.stringify(np).replace('"from"', '"form"'));
    expect(validateManifest(typo)).toEqual([expect.stringMatching(/spec\.ingress\[0\]\.form: unknown field "form"/)]);
  });
});
