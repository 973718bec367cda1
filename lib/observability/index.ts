export * from './alarm-topic';
export * from './audit-log-alarms';
export * from './container-insights';
export * from './guardduty-eks-protection';
export * from './managed-prometheus';
export * from './security-dashboard';
export * from './zero-trust-observability';
