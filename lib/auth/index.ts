export * from "./accounts";
export * from "./lifecycle";
export * from "./proxy-sign-in";
export * from "./roles";
