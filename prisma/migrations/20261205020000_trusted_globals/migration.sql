-- CreateTable
CREATE TABLE "TrustedGlobal" (
    "path" TEXT NOT NULL PRIMARY KEY,
    "module" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "addedBy" TEXT NOT NULL,
    "addedAt" TEXT NOT NULL
);
