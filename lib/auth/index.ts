export * from "./accounts";
export * from "./proxy";
export * from "./roles";
