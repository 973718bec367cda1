export * from './workload-selector';
export * from './peer-authentication';
export * from './authorization-policy';
export * from './sidecar';
export * from './service-entry';
export * from './telemetry';
