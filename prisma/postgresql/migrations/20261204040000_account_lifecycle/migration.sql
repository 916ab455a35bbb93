-- Translated from prisma/migrations/20261204040000_account_lifecycle/migration.sql by `npm run db:migration`.
-- Accounts with a full life cycle: forced password change after a reset, and deletion as a tombstone.
-- AlterTable
ALTER TABLE "User" ADD COLUMN "mustChangePassword" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "User" ADD COLUMN "passwordChangedAt" TEXT;
ALTER TABLE "User" ADD COLUMN "deletedAt" TEXT;
ALTER TABLE "User" ADD COLUMN "deletedBy" TEXT;
