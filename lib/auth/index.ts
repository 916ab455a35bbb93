export * from "./accounts";
export * from "./roles";
