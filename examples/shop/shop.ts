import { Construct } from 'constructs';
import { ServicePort, ZeroTrustPolicyChart } from '../../lib';

/**
 * The reference scenario: the ingress gateway -> api-gateway -> user; order -> payment
 * (POST /charge only, in its own namespace); analytics, which nobody may call.
 */
export class ShopPolicies extends ZeroTrustPolicyChart {
  constructor(scope: Construct, id: string) {
    super(scope, id, {
      namespace: 'shop',
      kubernetesVersion: '1.35',
      // The subnets where no pod lives, so the platform namespaces get exact policies too (design.md 7): the
      // control-plane ENIs call istiod's webhook, the load balancer reaches the ingress gateway. These are the
      // SegmentedVpc defaults; use your cluster's.
      platformNetwork: {
        controlPlaneCidrs: ['10.0.68.192/28', '10.0.68.208/28'],
        loadBalancerCidrs: ['10.0.68.0/26', '10.0.68.64/26'],
        apiServerServiceCidr: '172.20.0.1/32',
      },
    });

    const apiGateway = this.addService('api-gateway', { ports: [ServicePort.http(8080)] });
    const user = this.addService('user', { ports: [ServicePort.http(8080)] });
    const order = this.addService('order', { ports: [ServicePort.http(8080)] });
    const payment = this.addService('payment', { namespace: 'payments', ports: [ServicePort.http(8443)] });
    this.addService('analytics', { namespace: 'analytics', ports: [ServicePort.http(8080)] });

    apiGateway.allowFromIngressGateway();
    user.allowFrom(apiGateway);
    payment.allowFrom(order, { ports: [8443], methods: ['POST'], paths: ['/charge'] });
  }
}
