export * from "./credentials";
export * from "./errors";
export * from "./people";
export * from "./rules";
export * from "./store";
export * from "./workflow";
