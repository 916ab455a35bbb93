export * from "./chain";
export * from "./db";
export * from "./export";
export * from "./log";
export * from "./migrate";
export * from "./redact";
export * from "./release";
export * from "./secrets";
