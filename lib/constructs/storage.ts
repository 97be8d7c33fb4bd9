import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface StorageProps {
  readonly logRetentionDays: number;
}

/**
 * What the system keeps: one DynamoDB table (accounts, key hashes, loops, message context,
 * idempotency; items expire through `expiresAt`), the bucket of log files (private, encrypted,
 * TLS-only, expiring after `logRetentionDays`), and the admin API key.
 */
export class Storage extends Construct {
  readonly table: Table;
  readonly logsBucket: Bucket;
  /** The admin key's secret is referred to by name everywhere (see AppFunction.readsSecret). */
  readonly adminSecretName: string;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);

    this.table = new Table(this, 'Table', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Overloaded index: the list of accounts, and the loops awaiting verification (sparse).
    this.table.addGlobalSecondaryIndex({
      indexName: 'gsi1',
      partitionKey: { name: 'gsi1pk', type: AttributeType.STRING },
      sortKey: { name: 'gsi1sk', type: AttributeType.STRING },
    });

    this.logsBucket = new Bucket(this, 'LogsBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        { expiration: Duration.days(props.logRetentionDays), abortIncompleteMultipartUploadAfter: Duration.days(1) },
        // Today's files as downloaded: built on request, their URL lives minutes.
        { prefix: 'snapshots/', expiration: Duration.days(1) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.logsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Objects are only read through presigned URLs that the API issues to the owning account after authentication, ' +
        'and each issuance is logged by the API function; S3 server access logs would add a second bucket without new information.',
    });

    this.adminSecretName = `${Stack.of(this).stackName}/admin-api-key`;
    const adminSecret = new Secret(this, 'AdminApiKey', {
      secretName: this.adminSecretName,
      description:
        "The operator's admin API key. Rotate by putting a new value; it takes effect within the authoriser cache time.",
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
    });
    Validations.of(adminSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The admin key is an API bearer token the operator hands out, not a credential of another service: it is rotated ' +
        'by the operator putting a new value (README), which the authoriser picks up without a deployment.',
    });
  }
}
