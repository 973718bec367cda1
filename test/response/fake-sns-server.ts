import * as http from 'http';
import { AddressInfo } from 'net';

/**
 * A loopback endpoint that answers SNS Publish the way SNS does, for either wire protocol the SDK
 * may speak (awsQuery form posts answered in XML, or AWS JSON), and keeps what was published.
 */
export interface PublishedMessage {
  readonly topicArn: string;
  readonly subject?: string;
  readonly message: string;
  readonly authorization?: string;
}

export class FakeSnsServer {
  public static async start(): Promise<FakeSnsServer> {
    const s = new FakeSnsServer();
    await new Promise<void>(resolve => s.server.listen(0, '127.0.0.1', resolve));
    return s;
  }

  public readonly published: PublishedMessage[] = [];
  private readonly server = http.createServer((req, res) => this.serve(req, res));

  public get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  public async stop(): Promise<void> {
    await new Promise<void>(resolve => this.server.close(() => resolve()));
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const id = `msg-${this.published.length + 1}`;
      const type = req.headers['content-type'] ?? '';
      if (type.startsWith('application/x-www-form-urlencoded')) {
        const form = new URLSearchParams(raw);
        if (form.get('Action') !== 'Publish') {
          res.writeHead(400).end();
          return;
        }
        this.published.push({ topicArn: form.get('TopicArn') ?? '', subject: form.get('Subject') ?? undefined, message: form.get('Message') ?? '', authorization: req.headers.authorization });
        res.writeHead(200, { 'Content-Type': 'text/xml' });
        res.end(`<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${id}</MessageId></PublishResult>`
          + '<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></PublishResponse>');
        return;
      }
      const body = JSON.parse(raw || '{}');
      this.published.push({ topicArn: body.TopicArn, subject: body.Subject, message: body.Message, authorization: req.headers.authorization });
      res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ MessageId: id }));
    });
  }
}
