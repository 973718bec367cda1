export * from './rule';
export * from './zero-trust-checks';
