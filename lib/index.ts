export * from './model/service-protocol';
export * from './model/service-port';
export * from './model/allow-options';
export * from './model/platform';
export * from './model/microservice';
export * from './policy/istio';
export * from './policy/zero-trust-policy-chart';
