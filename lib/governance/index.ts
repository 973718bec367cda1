// Only jsii types are public: the CEL sources and helpers stay internal.
export { EnforcementAction } from './enforcement-action';
export { AdmissionIdentities } from './admission-identities';
export { GuardrailExemption, GuardrailOptions, ZeroTrustGuardrails, ZeroTrustGuardrailsProps } from './zero-trust-guardrails';
export { KubernetesApiRule } from './rbac';
