import { Construct } from 'constructs';
import { ServicePort, ZeroTrustPolicyChart } from '../../lib';

/**
 * The reference scenario: the ingress gateway -> api-gateway -> user; order -> payment
 * (POST /charge only, in its own namespace); analytics, which nobody may call.
 */
export class ShopPolicies extends ZeroTrustPolicyChart {
  constructor(scope: Construct, id: string) {
    super(scope, id, { namespace: 'shop' });

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
