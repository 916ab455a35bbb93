export * from "./previous";
export * from "./release";
