#!/usr/bin/env node
// examples/timecard written by hand as a CDK app (aws-cdk-lib v2, plain
// JavaScript), for the one-off `cdk synth` vs `flowc build` comparison of
// scripts/bench-cdk. It builds what `flowc build examples/timecard` puts in
// its template for the same system:
//
//   * the event bus, the table (TTL, point-in-time recovery, encryption),
//     the object bucket and the media bucket of the S3 triggers (SSE-S3,
//     public access blocked, versioning, TLS only; EventBridge notifications
//     on the media bucket);
//   * one Lambda function per node (7), one ingest function per S3 trigger
//     (2) and the app's sink function, all `provided.al2023` on arm64 from
//     `Code.fromAsset` (inline code is refused for that runtime), each with
//     its log group (30 days), its SQS dead-letter queue (SSE-SQS) and a
//     role granting what the node needs;
//   * one rule per route on the bus, with the patterns of `rules/*.json`
//     (checked by scripts/bench-cdk against `flowc build`), a retry policy
//     and the target's dead-letter queue; the S3 trigger rules and the
//     node flush schedules on the default bus; the sink rule.
//
// Not reproduced: the Event Store API, the schema registry, the access-log
// bucket. Nothing here is deployed or part of CI.
'use strict';

const path = require('path');
const cdk = require('aws-cdk-lib');
const { Duration, RemovalPolicy } = cdk;
const dynamodb = require('aws-cdk-lib/aws-dynamodb');
const events = require('aws-cdk-lib/aws-events');
const targets = require('aws-cdk-lib/aws-events-targets');
const iam = require('aws-cdk-lib/aws-iam');
const lambda = require('aws-cdk-lib/aws-lambda');
const logs = require('aws-cdk-lib/aws-logs');
const s3 = require('aws-cdk-lib/aws-s3');
const sqs = require('aws-cdk-lib/aws-sqs');

const PROJECT = 'timecard';
const AGENT = 'acme.timecard.agent';
const DERIVED = `flow.${PROJECT}`;
const RETRY = { retryAttempts: 10, maxEventAge: Duration.hours(1) };

// Node kind → memory (MB), timeout (s), needs (docs/aws-mapping.md).
const NODES = [
  { name: 'FrameDedupe', memory: 256, timeout: 30, state: true },
  { name: 'FrameSampler', memory: 256, timeout: 30, state: true, flush: true },
  { name: 'ScreenSummary', memory: 512, timeout: 120, media: 'read', objects: 'read',
    model: 'anthropic.claude-3-5-haiku-20241022-v1:0' },
  { name: 'AudioStitcher', memory: 1024, timeout: 120, state: true, flush: true,
    media: 'read', objects: 'readwrite' },
  { name: 'Transcriber', memory: 256, timeout: 300, media: 'read', objects: 'readwrite',
    transcribe: true },
  { name: 'UsageRollup', memory: 256, timeout: 30, state: true, flush: true },
  { name: 'TimecardJoin', memory: 256, timeout: 30, state: true },
];

// The routes and their patterns, as in `flowc build examples/timecard`
// rules/*.json (explicit routes with conditions, then the implicit ones).
const ROUTES = [
  {
    name: 'VisibleFrames', target: 'FrameDedupe',
    pattern: {
      source: [AGENT], detailType: ['screen.frame'],
      detail: {
        application: { name: [{ 'anything-but': ['lockscreen'] }] },
        data: { image: { key: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
      },
    },
  },
  {
    name: 'SpeechChunks', target: 'AudioStitcher',
    pattern: {
      source: [AGENT], detailType: ['audio.chunk'],
      detail: {
        $or: [
          { data: { voice_activity: [{ numeric: ['>=', 0.05] }] } },
          { data: { length: [{ numeric: ['<', 2000] }] } },
        ],
      },
    },
  },
  {
    name: 'ActiveUsage', target: 'UsageRollup',
    pattern: {
      source: [AGENT], detailType: ['app.usage'],
      detail: {
        application: {
          bundle_id: [{ 'anything-but': ['com.apple.loginwindow', 'com.apple.ScreenSaver.Engine'] }],
        },
        data: { active_ms: [{ numeric: ['>', 0, '<=', 3600000] }], idle: [false] },
      },
    },
  },
  ...[
    ['UniqueFrame', 'FrameSampler'],
    ['FrameSampled', 'ScreenSummary'],
    ['StitchedAudio', 'Transcriber'],
    ['ScreenDescribed', 'TimecardJoin'],
    ['SpokenTranscript', 'TimecardJoin'],
    ['UsageRolledUp', 'TimecardJoin'],
  ].map(([event, target]) => ({
    name: `${event}To${target}`, target,
    pattern: { source: [DERIVED], detailType: [event] },
  })),
];

const S3_TRIGGERS = [
  { name: 'Frames', key: [{ prefix: 'frames/' }] },
  { name: 'Audio', key: [{ wildcard: 'audio/*.webm' }] },
];

class TimecardStack extends cdk.Stack {
  constructor(scope, id, props) {
    super(scope, id, props);
    const stage = new cdk.CfnParameter(this, 'Stage', {
      type: 'String', default: 'dev', allowedPattern: '^[a-z][a-z0-9-]{0,9}$',
    }).valueAsString;

    const bus = new events.EventBus(this, 'Bus', { eventBusName: `${PROJECT}-${stage}` });

    const table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expires_at',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const bucketProps = {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      enforceSSL: true,
      lifecycleRules: [{
        noncurrentVersionExpiration: Duration.days(30),
        abortIncompleteMultipartUploadAfter: Duration.days(7),
      }],
      removalPolicy: RemovalPolicy.RETAIN,
    };
    const bucket = new s3.Bucket(this, 'Bucket', bucketProps);
    const media = new s3.Bucket(this, 'AcmeTimecardMediaTriggerBucket', {
      ...bucketProps,
      bucketName: cdk.Fn.sub('acme-timecard-media-${AWS::AccountId}-${Stage}'),
      eventBridgeEnabled: true,
    });

    const code = lambda.Code.fromAsset(path.join(__dirname, 'asset'));
    const environment = {
      FLOW_BUCKET: bucket.bucketName,
      FLOW_BUS: bus.eventBusName,
      FLOW_GRAPH: 'graph.json',
      FLOW_STAGE: stage,
      FLOW_TABLE: table.tableName,
    };

    // A function with its log group and dead-letter queue.
    const fn = (base, memory, timeout, env) => {
      const deadLetterQueue = new sqs.Queue(this, `${base}DeadLetterQueue`, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        retentionPeriod: Duration.days(14),
        enforceSSL: true,
      });
      const logGroup = new logs.LogGroup(this, `${base}LogGroup`, {
        logGroupName: `/aws/lambda/${PROJECT}-${stage}-${base}`,
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const f = new lambda.Function(this, `${base}Function`, {
        functionName: `${PROJECT}-${stage}-${base}`,
        runtime: lambda.Runtime.PROVIDED_AL2023,
        architecture: lambda.Architecture.ARM_64,
        handler: 'bootstrap',
        code,
        memorySize: memory,
        timeout: Duration.seconds(timeout),
        environment: { ...environment, ...env },
        logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        deadLetterQueue,
      });
      return { f, deadLetterQueue };
    };

    const functions = {};
    for (const node of NODES) {
      const made = fn(node.name, node.memory, node.timeout, {
        FLOW_ROLE: 'node', FLOW_NODE: node.name,
      });
      functions[node.name] = made;
      const f = made.f;
      bus.grantPutEventsTo(f);
      if (node.state) {
        f.addToRolePolicy(new iam.PolicyStatement({
          actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem',
            'dynamodb:DeleteItem', 'dynamodb:Query'],
          resources: [table.tableArn],
        }));
      }
      if (node.media === 'read') media.grantRead(f);
      if (node.objects === 'read') bucket.grantRead(f);
      if (node.objects === 'readwrite') bucket.grantReadWrite(f);
      if (node.model) {
        f.addToRolePolicy(new iam.PolicyStatement({
          actions: ['bedrock:InvokeModel'],
          resources: [cdk.Fn.sub(
            `arn:\${AWS::Partition}:bedrock:\${AWS::Region}::foundation-model/${node.model}`)],
        }));
      }
      if (node.transcribe) {
        f.addToRolePolicy(new iam.PolicyStatement({
          actions: ['transcribe:StartTranscriptionJob'], resources: ['*'],
        }));
        f.addToRolePolicy(new iam.PolicyStatement({
          actions: ['transcribe:GetTranscriptionJob'],
          resources: [cdk.Fn.sub(
            'arn:${AWS::Partition}:transcribe:${AWS::Region}:${AWS::AccountId}:transcription-job/*')],
        }));
      }
      if (node.flush) {
        new events.Rule(this, `${node.name}FlushRule`, {
          ruleName: `${PROJECT}-${stage}-flush-${node.name}`,
          schedule: events.Schedule.rate(Duration.minutes(1)),
          targets: [new targets.LambdaFunction(f, {
            event: events.RuleTargetInput.fromObject({ flowc: 'flush', node: node.name }),
            deadLetterQueue: made.deadLetterQueue,
            ...RETRY,
          })],
        });
      }
    }

    for (const route of ROUTES) {
      const target = functions[route.target];
      new events.Rule(this, `${route.name}Rule`, {
        ruleName: `${PROJECT}-${stage}-${route.name}`,
        eventBus: bus,
        eventPattern: route.pattern,
        targets: [new targets.LambdaFunction(target.f, {
          deadLetterQueue: target.deadLetterQueue, ...RETRY,
        })],
      });
    }

    for (const trigger of S3_TRIGGERS) {
      const { f, deadLetterQueue } = fn(`${trigger.name}Ingest`, 256, 30, {
        FLOW_ROLE: 'ingest', FLOW_TRIGGER: trigger.name,
      });
      bus.grantPutEventsTo(f);
      media.grantRead(f);
      new events.Rule(this, `${trigger.name}S3Rule`, {
        ruleName: `${PROJECT}-${stage}-s3-${trigger.name}`,
        eventPattern: {
          source: ['aws.s3'], detailType: ['Object Created'],
          detail: { bucket: { name: [media.bucketName] }, object: { key: trigger.key } },
        },
        targets: [new targets.LambdaFunction(f, { deadLetterQueue, ...RETRY })],
      });
    }

    const sink = fn('TimecardSink', 256, 60, {
      FLOW_ROLE: 'sink', FLOW_APP: 'Timecard', FLOW_SECRET_PREFIX: `${PROJECT}/${stage}/`,
    });
    sink.f.addToRolePolicy(new iam.PolicyStatement({
      actions: ['s3:PutObject'], resources: [bucket.arnForObjects('timecards/*')],
    }));
    sink.f.addToRolePolicy(new iam.PolicyStatement({
      actions: ['dynamodb:PutItem'], resources: [table.tableArn],
    }));
    new events.Rule(this, 'TimecardTimecardEntrySinkRule', {
      ruleName: `${PROJECT}-${stage}-sink-Timecard-TimecardEntry`,
      eventBus: bus,
      eventPattern: { source: [DERIVED], detailType: ['timecard.entry'] },
      targets: [new targets.LambdaFunction(sink.f, {
        deadLetterQueue: sink.deadLetterQueue, ...RETRY,
      })],
    });

    new cdk.CfnOutput(this, 'BusName', { value: bus.eventBusName });
    new cdk.CfnOutput(this, 'BusArn', { value: bus.eventBusArn });
    new cdk.CfnOutput(this, 'BucketName', { value: bucket.bucketName });
    new cdk.CfnOutput(this, 'TableName', { value: table.tableName });
  }
}

const app = new cdk.App();
new TimecardStack(app, 'Timecard', {
  description: 'Per-session timecards from screen frames, speech and application usage',
  synthesizer: new cdk.DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
});
app.synth();
