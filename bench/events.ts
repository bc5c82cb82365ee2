// What the outbox costs requests when its receivers misbehave: `me` p99 while a webhook receiver
// hangs, and while the mail server hangs under a burst of registrations and mail requests.
import { lifecycleMutations as lifecycle } from "../test/helpers/account-lifecycle.js";
import { newAccount } from "../test/helpers/accounts.js";
import { errorCodes, graphql, mutations } from "../test/helpers/graphql.js";
import { HungMailServer, TestMailServer } from "../test/helpers/mail.js";
import { newWebhookSecret, WebhookReceiver } from "../test/helpers/webhooks.js";
import { drive, graphqlCall, percentile, type HttpCall } from "./load.js";
import { startSubgraph, type Served } from "./processes.js";

export interface EventsPlan {
  warmup: number;
  tail: number;
  tailRounds: number;
  /** `me` requests per second, well below capacity. */
  tailRate: number;
}

interface Account {
  username: string;
  accessToken: string;
}

/** The mail server on one port: a working SMTP server, or a hung one in its place. */
class SwitchableMailServer {
  private constructor(
    readonly port: number,
    private current: TestMailServer | HungMailServer,
  ) {}

  static async start(): Promise<SwitchableMailServer> {
    const working = await TestMailServer.start();
    return new SwitchableMailServer(working.port, working);
  }

  async hang(): Promise<void> {
    await this.current.close();
    this.current = await HungMailServer.start(this.port);
  }

  async answer(): Promise<void> {
    await this.current.close();
    this.current = await TestMailServer.start({ port: this.port });
  }

  close(): Promise<void> {
    return this.current.close();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** `me` p99 over one tail window, with `alongside` running meanwhile. */
async function meTail(subgraph: Served, meCalls: HttpCall[], plan: EventsPlan, alongside: () => Promise<unknown> = async () => {}): Promise<number> {
  const [me] = await Promise.all([drive({ baseUrl: subgraph.baseUrl, calls: meCalls, connections: 2, rate: plan.tailRate, durationSeconds: plan.tail }), alongside()]);
  return percentile(me.latenciesMs, 99);
}

/** 30 registers and 30 requestEmailVerification at once, half a second into the window; every one must be answered without an error. */
async function mailBurst(subgraph: Served, accounts: Account[]): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 500));
  const answers = await Promise.all([
    ...Array.from({ length: 30 }, () => graphql(subgraph.url, mutations.register, { input: newAccount("burst") })),
    ...Array.from({ length: 30 }, (_, index) => graphql(subgraph.url, lifecycle.requestEmailVerification, {}, { token: accounts[index % accounts.length]!.accessToken })),
  ]);
  const failed = answers.find((answer) => answer.errors);
  if (failed) throw new Error(`a request of the mail burst failed: ${errorCodes(failed).join()}`);
}

/**
 * A subgraph of its own whose events go to a webhook receiver and whose mail goes to an SMTP server,
 * both in this process, each made to hang in turn.
 */
export async function eventDeliveryTails(buildDir: string, databaseUrl: string | undefined, plan: EventsPlan) {
  const secret = newWebhookSecret();
  const receiver = await WebhookReceiver.start(secret);
  const mail = await SwitchableMailServer.start();
  const subgraph = await startSubgraph(buildDir, databaseUrl, {
    EVENT_WEBHOOK_URLS: receiver.url,
    EVENT_WEBHOOK_SECRET: secret,
    SMTP_URL: `smtp://127.0.0.1:${mail.port}`,
    SMTP_TIMEOUT: "2s",
  });
  try {
    const accounts: Account[] = [];
    for (let index = 0; index < 20; index++) {
      const account = newAccount("events");
      const response = await graphql(subgraph.url, mutations.register, { input: account });
      if (response.errors) throw new Error(`register failed: ${errorCodes(response).join()}`);
      accounts.push({ username: account.username, accessToken: response.data!.register.accessToken });
    }
    const meCalls = accounts.map((account) => graphqlCall({ query: mutations.me, token: account.accessToken }));
    let renames = 0;
    // Each rename is a user.username_changed event for the receiver.
    const renameCall = (): HttpCall => {
      const account = accounts[renames % accounts.length]!;
      return graphqlCall({ query: lifecycle.changeUsername, variables: { newUsername: `${account.username}_${++renames}` }, token: account.accessToken });
    };
    const withEvents = () => drive({ baseUrl: subgraph.baseUrl, calls: renameCall, connections: 1, rate: 20, durationSeconds: plan.tail });
    await meTail(subgraph, meCalls, { ...plan, tail: plan.warmup });

    const webhookRounds: { answering: number; hanging: number }[] = [];
    for (let round = 0; round < plan.tailRounds; round++) {
      receiver.mode = { status: 204 };
      const answering = await meTail(subgraph, meCalls, plan, withEvents);
      receiver.mode = "hang";
      const hanging = await meTail(subgraph, meCalls, plan, withEvents);
      webhookRounds.push({ answering, hanging });
    }
    receiver.mode = { status: 204 };

    const mailRounds: { idle: number; hung: number; working: number }[] = [];
    for (let round = 0; round < plan.tailRounds; round++) {
      const idle = await meTail(subgraph, meCalls, plan);
      await mail.hang();
      const hung = await meTail(subgraph, meCalls, plan, () => mailBurst(subgraph, accounts));
      await mail.answer();
      const working = await meTail(subgraph, meCalls, plan, () => mailBurst(subgraph, accounts));
      mailRounds.push({ idle, hung, working });
    }
    const webhook = webhookRounds.map((round) => round.hanging / round.answering);
    const mailRatios = mailRounds.map((round) => round.hung / round.idle);
    return {
      webhook: { ratio: median(webhook), ...webhookRounds[webhook.indexOf(median(webhook))]!, events: renames },
      mail: { ratio: median(mailRatios), ...mailRounds[mailRatios.indexOf(median(mailRatios))]! },
    };
  } finally {
    await subgraph.stop();
    await receiver.close();
    await mail.close();
  }
}
