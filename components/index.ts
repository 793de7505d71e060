export * from "./contract";
export * from "./defaults";
export * from "./InferenceImage";
export * from "./InferenceService";
export * from "./IngressController";
export * from "./quantity";
export * from "./runtimeEnv";
export * from "./TraefikController";
