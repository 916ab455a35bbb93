export * from "./chain";
export * from "./db";
export * from "./log";
export * from "./migrate";
export * from "./release";
export * from "./export";
