export * from "./errors";
export * from "./post";
export * from "./schedule";
export * from "./secret-box";
export * from "./sender";
export * from "./sign";
export * from "./store";
export * from "./target";
