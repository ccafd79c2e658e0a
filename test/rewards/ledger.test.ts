/**
 * Runs the ledger contract on every adapter. PostgreSQL: runs when reachable; with CI set it always runs
 * (and fails when the database is down); otherwise an unreachable server skips it visibly.
 */
import { describeService } from '../store/service-probe';
import { DATABASE_URL, dropSharedPg, memoryLedgerFactory, pgLedgerFactory, sqliteLedgerFactory } from './helpers';
import { runLedgerContract } from './ledger-contract';

runLedgerContract('createMemoryLedger', memoryLedgerFactory);
runLedgerContract('SqliteLedger', sqliteLedgerFactory);
describeService('PostgresLedger', [[DATABASE_URL, 5432]], () => {
  afterAll(dropSharedPg);
  runLedgerContract('PostgresLedger', pgLedgerFactory);
});
